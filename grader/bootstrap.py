"""Set up the kit's virtual environment if needed, then run one of its jobs inside it.

Standard library only: this runs on a fresh machine before anything is installed.
It is idempotent: the environment is (re)installed only when ``pyproject.toml``
or the requested extras changed since the last install, so a second run starts
the job at once.

    python3 -m grader.bootstrap grade   # grade the bundled sample class
    python3 -m grader.bootstrap test    # run the whole test suite
    python3 -m grader.bootstrap lab     # open the lessons in JupyterLab
    python3 -m grader.bootstrap demo    # serve the live streaming demo
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".kit-installed"
MIN_PYTHON = (3, 11)

# job name -> (extras to install, command to run inside the environment)
JOBS: dict[str, tuple[str, list[str]]] = {
    "grade": ("", ["-m", "grader", "--submissions", "grader/samples"]),
    "test": ("test", ["-m", "pytest"]),
    "lab": ("", ["-m", "jupyterlab"]),
    "demo": ("", ["-m", "uvicorn", "lessons.demo.app:app", "--host", "127.0.0.1"]),
}


def venv_python() -> Path:
    """The interpreter of the kit's virtual environment."""
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def current_install() -> str:
    """What identifies an install: the project file and the interpreter version."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return f"{digest} python{sys.version_info.major}.{sys.version_info.minor}"


def installed_extras() -> set[str] | None:
    """The extras of the last install if it is still current, else None."""
    if not STAMP.exists():
        return None
    install, _, extras = STAMP.read_text().strip().partition(" extras=")
    return set(extras.split(",")) - {""} if install == current_install() else None


def ensure_environment(extras: str) -> None:
    """Create the virtual environment and install the kit into it unless already current."""
    have = installed_extras()
    if have is not None and (not extras or extras in have):
        return
    if not venv_python().exists():
        print(f"bootstrap: creating {VENV.name}/", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = sorted((have or set()) | ({extras} - {""}))
    target = f".[{','.join(wanted)}]" if wanted else "."
    print(f"bootstrap: installing the kit ({target}) into {VENV.name}/", file=sys.stderr)
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-e", target], cwd=ROOT, check=True)
    STAMP.write_text(f"{current_install()} extras={','.join(wanted)}\n")


def main(argv: list[str] | None = None) -> int:
    """Parse the job name, set up the environment and hand over to the job."""
    parser = argparse.ArgumentParser(
        prog="python3 -m grader.bootstrap",
        description="Set up .venv/ when needed, then run a job of the kit inside it.",
    )
    parser.add_argument("job", choices=sorted(JOBS), help="what to run once set up")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="extra arguments for the job")
    ns = parser.parse_args(argv)
    if sys.version_info < MIN_PYTHON:
        parser.error(f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is required")
    extras, command = JOBS[ns.job]
    try:
        ensure_environment(extras)
    except subprocess.CalledProcessError as exc:
        print(
            f"bootstrap: installing failed (exit {exc.returncode}); see pip's output above",
            file=sys.stderr,
        )
        return 2
    os.chdir(ROOT)
    argv_job = [str(venv_python()), *command, *ns.args]
    return subprocess.call(argv_job)


if __name__ == "__main__":
    raise SystemExit(main())
