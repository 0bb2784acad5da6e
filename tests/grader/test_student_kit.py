"""The student kit: what a student needs to learn and check their work, and no right answer."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.platforms.student_kit import build_kit

ROOT = Path(__file__).resolve().parents[2]
DOCSTRING = re.compile(r'\A\s*(?:"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\')')
MIN_ANSWER = 80  # characters: shorter code is too common to be anybody's answer
RUN_LIMIT = 600
# Runs the student notebook in a fresh kernel, then one more cell naming the grader it used.
EXECUTE = """
import sys
import nbformat
from nbclient import NotebookClient

notebook = nbformat.read("exercises.ipynb", as_version=4)
notebook.cells.append(nbformat.v4.new_code_cell("import grader\\nprint(grader.__file__)"))
NotebookClient(notebook, timeout=300, kernel_name="python3").execute(cwd=".")
nbformat.write(notebook, sys.argv[1])
"""


def code_of(path: Path) -> str:
    """A file's text as code: a notebook's cell sources joined, anything else as it is."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".ipynb":
        return text
    return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])


def right_answers() -> dict[str, str]:
    """The code (docstring left out) of each reference solution and sample the stubs lack."""
    stubs = [code_of(path) for path in (ROOT / "exercises").glob("*.py")]
    files = [*(ROOT / "solutions").glob("*.py"), *(ROOT / "grader" / "samples").rglob("*.py")]
    answers = {}
    for path in files:
        body = DOCSTRING.sub("", path.read_text(encoding="utf-8")).strip()
        if len(body) >= MIN_ANSWER and not any(body in stub for stub in stubs):
            answers[str(path.relative_to(ROOT))] = body
    return answers


def output_text(output: dict) -> str:
    """What a cell output shows a plain-text front end: its stream text or text/plain data."""
    text = output.get("text") or output.get("data", {}).get("text/plain", "")
    return "".join(text)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The student kit, built by the command line into a new folder."""
    output = tmp_path_factory.mktemp("student") / "kit"
    done = subprocess.run(
        [sys.executable, "-m", "grader.platforms", "student-kit", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"wrote {output}/")
    return output


def test_the_kit_holds_the_lessons_exercises_and_grader(kit: Path) -> None:
    for folder in ("lessons", "exercises"):
        wanted = sorted(
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts
        )
        got = sorted(
            p.relative_to(kit).as_posix() for p in (kit / folder).rglob("*") if p.is_file()
        )
        assert got == wanted
    for name in ("pyproject.toml", "README.md", "grader/__main__.py", "grader/notebook.py"):
        assert (kit / name).is_file(), name


def test_no_right_answer_is_anywhere_in_the_kit(kit: Path) -> None:
    answers = right_answers()
    assert answers, "no reference solution found to look for"
    leaks = [
        f"{path.relative_to(kit)} holds {source}"
        for path in sorted(kit.rglob("*"))
        if path.is_file()
        for source, body in answers.items()
        if body in code_of(path)
    ]
    assert leaks == []
    folders = {part for path in kit.rglob("*") for part in path.relative_to(kit).parts}
    assert {"solutions", "samples", "tests", "benchmarks"} & folders == set()


def test_the_kit_is_written_only_into_a_new_or_empty_folder(kit: Path) -> None:
    with pytest.raises(OSError, match="exists and is not an empty folder"):
        build_kit(kit)


@pytest.mark.slow
def test_check_runs_from_the_kit_alone_and_reports_the_stubs(kit: Path, tmp_path: Path) -> None:
    executed = tmp_path / "executed.ipynb"
    # The kit's own grader, not the one this test suite runs: its folder first on the path.
    env = {**os.environ, "PYTHONPATH": str(kit)}
    done = subprocess.run(
        [sys.executable, "-c", EXECUTE, str(executed)],
        cwd=kit / "exercises",
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    cells = [
        cell for cell in json.loads(executed.read_text())["cells"] if cell["cell_type"] == "code"
    ]
    printed = ["".join(output_text(output) for output in cell["outputs"]) for cell in cells]
    assert printed[-1].strip() == str(kit / "grader" / "__init__.py")
    checks = {}
    for text in printed:
        if match := re.search(r"^(ex\d)\s+FAIL", text, re.MULTILINE):
            checks[match.group(1)] = text
    # Every stub fails, the challenges' too: the kit ships no answer.
    cells_checked = [cell for cell in cells if re.match(r"check\(\"ex\d", "".join(cell["source"]))]
    assert len(checks) == len(cells_checked) and {"ex1", "ex2", "ex3", "ex4"} <= set(checks)
    assert "NotImplementedError: exercise 1" in checks["ex1"]
    assert "each event must end with a blank line" in checks["ex2"]
    assert "NotImplementedError: exercise 3" in checks["ex3"]
    assert "went on reading the log for" in checks["ex4"]
