"""The student notebook's check cells grade the modules beside it, in a real kernel."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.exercises import EXERCISES, exercise
from grader.hints import ENV_FILE

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "exercises" / "exercises.ipynb"
CELL_TIMEOUT = 120

pytestmark = pytest.mark.slow


def run_notebook_beside(modules: Path, tmp_path: Path, mime: str = "text/plain") -> dict[str, str]:
    """Run the notebook beside copies of ``modules``' exercise files; the checks' ``mime`` output.

    The outputs are keyed by the check, the last line of its cell (``check("ex1")``).

    Failures are counted in a file of the test's own, so the hints start afresh.
    """
    for module in modules.glob("ex*.py"):
        shutil.copy(module, tmp_path / module.name)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_FILE, str(tmp_path / "hints.json"))
        NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": tmp_path}},
        ).execute()
    return {
        c.source.splitlines()[-1]: "".join(
            str(o.get("data", {}).get(mime, "")) for o in c.outputs if "data" in o
        )
        for c in nb.cells
        if c.cell_type == "code" and c.source.splitlines()[-1].startswith("check")
    }


def test_the_notebook_ships_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_check_cells_fail_the_stubs_with_their_messages(tmp_path):
    outputs = run_notebook_beside(ROOT / "exercises", tmp_path)
    # A check cell per exercise, in order of number (the challenges after the lesson's),
    # then the scoreboard.
    *checks, board = list(outputs)
    assert board == "check_all()"
    numbers = [exercise(cell.split('"')[1]).number for cell in checks]
    assert numbers == sorted(set(numbers))
    assert {ex.id for ex in EXERCISES} | {"ex4", "ex5"} <= {f"ex{n}" for n in numbers}
    ex1, ex2, ex3 = (outputs[f'check("{i}")'] for i in ("ex1", "ex2", "ex3"))
    assert "ex1   FAIL" in ex1
    assert "NotImplementedError: exercise 1" in ex1
    assert "ex2   FAIL" in ex2
    assert "each event must end with a blank line" in ex2
    assert "ex3   FAIL" in ex3
    assert "plain def generator" in ex3
    assert "ex4   FAIL" in outputs['check("ex4")']
    assert "went on reading the log for" in outputs['check("ex4")']
    assert "ex5   FAIL" in outputs['check("ex5")']
    assert "started over from the first event" in outputs['check("ex5")']
    assert "ex6   FAIL" in outputs['check("ex6")']
    assert "not streamed in constant memory" in outputs['check("ex6")']


def test_check_cells_pass_the_reference_solutions(tmp_path):
    outputs = run_notebook_beside(ROOT / "solutions", tmp_path)
    for exercise_id in ("ex1", "ex2", "ex3"):
        assert f"{exercise_id}   PASS" in outputs[f'check("{exercise_id}")']
        assert f"{exercise_id}   PASS" in outputs["check_all()"]
    assert "ex4   PASS" in outputs['check("ex4")']
    assert "ex5   PASS" in outputs['check("ex5")']
    assert "ex6   PASS" in outputs['check("ex6")']
    assert "FAIL" not in "".join(outputs.values())


def test_check_cells_render_html_for_jupyterlab(tmp_path):
    outputs = run_notebook_beside(ROOT / "exercises", tmp_path, "text/html")
    ex1, ex2 = outputs['check("ex1")'], outputs['check("ex2")']
    assert '<div class="sse-feedback" data-exercise="ex1">' in ex1
    assert '<tr class="sse-check sse-fail"><td class="sse-mark">✗</td>' in ex2
    assert '<img class="sse-timeline" alt="' in ex2
    assert '<details class="sse-hint">' in ex2  # the first failure: the hint stays folded
    board = outputs["check_all()"]
    assert '<table class="sse-scoreboard"><caption>0/3 points</caption>' in board
    assert board.count('<tr class="sse-exercise sse-fail"') == 3
