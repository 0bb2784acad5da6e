"""The notebook's check() and check_all() (grader/notebook.py), grading in a real grader process.

The browser and kernel sides are tested in tests/exercises and tests/test_jupyterlab.py;
here the feedback objects themselves: their text front end, their HTML and the hints.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.check_server import CheckServer
from grader.hints import FailureLog
from grader.notebook import GRADER, Feedback, Scoreboard, check, check_all
from grader.results import from_record
from grader.settings import OPEN_AFTER

ROOT = Path(__file__).resolve().parents[2]
BATCH_NOISE = ("==", "total", "submission", " . ")

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def log(tmp_path: Path) -> FailureLog:
    """A failure log of the test's own."""
    return FailureLog(tmp_path / "hints.json")


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    """A copy of the untouched exercise stubs."""
    folder = tmp_path / "work"
    folder.mkdir()
    for module in (ROOT / "exercises").glob("ex*.py"):
        shutil.copy(module, folder / module.name)
    return folder


def test_a_passing_check_shows_one_exercise_without_batch_noise(log):
    feedback = check("ex1", ROOT / "solutions", log=log)
    assert isinstance(feedback, Feedback) and feedback.passed
    text = repr(feedback)
    assert text.startswith("ex1   PASS      1/1  Stream a list of lines")
    assert not any(noise in text for noise in BATCH_NOISE)
    page = feedback._repr_html_()
    assert '<div class="sse-feedback" data-exercise="ex1">' in page
    assert 'class="sse-check sse-fail"' not in page
    assert '<img class="sse-timeline"' in page  # a passing stream is charted too


def test_a_failing_check_nudges_then_shows_the_lesson_s_hint(log, stubs):
    first = check("ex2", stubs, log=log)
    assert not first.passed
    text = repr(first)
    assert "- events: " in text and "→ Look at" in text
    assert "Hint (lesson 3)" not in text
    assert f"the lesson's hint shows after {OPEN_AFTER} failures" in text
    assert '<details class="sse-hint">' in first._repr_html_()
    for _ in range(OPEN_AFTER - 1):
        last = check("ex2", stubs, log=log)
    assert "Hint (lesson 3): Each SSE message must end with a blank line" in repr(last)
    assert '<details class="sse-hint" open>' in last._repr_html_()


def test_check_all_is_a_scoreboard(log, stubs):
    shutil.copy(ROOT / "solutions" / "ex1_stream_lines.py", stubs)
    board = check_all(stubs, log=log)
    assert isinstance(board, Scoreboard) and not board.passed
    assert [f.passed for f in board.feedback] == [True, False, False]
    page = board._repr_html_()
    assert '<table class="sse-scoreboard"><caption>1/3 points</caption>' in page
    assert page.count('<tr class="sse-exercise ') == 3
    text = repr(board)
    assert [line[:10] for line in text.splitlines() if line[:2] == "ex"] == [
        "ex1   PASS",
        "ex2   FAIL",
        "ex3   FAIL",
    ]
    assert not any(noise in text for noise in BATCH_NOISE)


def test_a_grader_that_cannot_run_is_said_so_and_not_counted(log, tmp_path):
    feedback = check("ex1", tmp_path / "missing", log=log)
    assert not feedback.passed
    (only,) = feedback.result.checks
    assert only.name == "graded"
    assert "The grader could not run: no such submission folder" in only.message
    assert not log.path.exists()


def test_an_unknown_exercise_names_the_valid_ones(log):
    with pytest.raises(KeyError, match="expected one of ex1, ex2, ex3"):
        check("ex99", ROOT / "solutions", log=log)


def test_the_grader_process_answers_each_request_line_with_the_full_result():
    requests = [
        {"folder": str(ROOT / "solutions"), "exercises": ["ex3"], "timeout": 10},
        {"folder": str(ROOT / "missing"), "exercises": ["ex1"], "timeout": 10},
        {"folder": str(ROOT / "solutions"), "exercises": ["ex9"]},
        "not an object",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "grader.check_server"],
        input="".join(json.dumps(r) + "\n" for r in requests),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    graded, missing, unknown, garbled = (json.loads(line) for line in done.stdout.splitlines())
    result = from_record(graded["record"])
    assert [e.id for e in result.exercises] == ["ex3"]
    ex3 = result.exercise("ex3")
    assert ex3.passed and ex3.timeline
    # The grader released every token, each one before its event arrived.
    assert len(ex3.released) == len(ex3.timeline)  # one event per chunk, as the solution sends
    assert all(r <= c.t for r, c in zip(ex3.released, ex3.timeline, strict=False))
    assert missing == {"error": f"no such submission folder: {ROOT / 'missing'}"}
    assert unknown == {"error": "unknown exercise 'ex9'"}
    assert garbled == {"error": 'a request is a JSON object with a "folder"'}


def test_a_grader_process_that_died_is_replaced(log):
    assert check("ex1", ROOT / "solutions", log=log).passed
    process = GRADER.start()
    process.kill()
    process.wait()
    again = check("ex1", ROOT / "solutions", log=log)
    assert again.passed
    assert GRADER.start().pid != process.pid


def test_a_grader_process_that_stops_answering_is_reported_and_replaced(tmp_path):
    sleeper = "import sys, time; sys.stdin.readline(); time.sleep(60)"
    silent = CheckServer([sys.executable, "-c", sleeper], margin=0.5)
    try:
        results, why = silent.grade(tmp_path, ["ex1"], timeout=0.01)
        assert (results, why) == ([], "The grader did not answer in time; run the check again.")
        assert silent.idle()
    finally:
        silent.close()


def test_a_grader_process_that_crashes_says_why(tmp_path):
    crashing = CheckServer([sys.executable, "-c", "raise SystemExit('grader broke: no sandbox')"])
    try:
        results, why = crashing.grade(tmp_path, ["ex1"], timeout=1)
        assert results == []
        assert why == "The grader stopped: grader broke: no sandbox"
    finally:
        crashing.close()
