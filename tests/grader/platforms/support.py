"""What the platform tests share: the kit's folders and running commands as a platform would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.exercises import EXERCISES

REPO = Path(__file__).resolve().parents[3]
SOLUTIONS = REPO / "solutions"
STUBS = REPO / "exercises"
VENV_BIN = Path(sys.executable).parent
SCHEMAS = Path(__file__).resolve().parent.parent
GRADING_TIMEOUT = 300  # seconds any one platform script or grading command may take
MAX_SCORE = sum(ex.max_score for ex in EXERCISES)


def schema(name: str) -> dict:
    """One of the JSON Schemas kept beside the grader tests."""
    return json.loads((SCHEMAS / name).read_text())


def exercise_files(folder: Path) -> list[Path]:
    """The three exercise modules of a solutions or stubs folder."""
    return [folder / ex.filename for ex in EXERCISES]


def copy_exercises(source: Path, target: Path) -> None:
    """Copy the three exercise modules of source into target (made if missing)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in exercise_files(source):
        shutil.copy2(path, target)


def run(
    args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = GRADING_TIMEOUT
) -> subprocess.CompletedProcess:
    """Run a command with a bound on its time, capturing its output as text."""
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def path_env(*first: Path, **extra: str) -> dict[str, str]:
    """The environment with these folders first on PATH (the venv's Python after them)."""
    dirs = [*map(str, first), str(VENV_BIN), "/usr/bin", "/bin"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "PATH": os.pathsep.join(dirs), **extra}


def fake_python(folder: Path, script: str) -> Path:
    """A folder whose python3 is a shell script, to put first on PATH."""
    folder.mkdir()
    fake = folder / "python3"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    return folder
