"""Grading a class: saved results survive re-runs and interruptions, order, progress display.

The batch runs as instructors run it, ``python -m grader`` in a subprocess,
over small classes of reference solutions written to tmp_path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from grader.exercises import EXERCISES
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from tests.grader.helpers import (
    GRADER,
    ROOT,
    RUN_LIMIT,
    describe,
    grader,
    kill_all,
    make_submission,
    processes_mentioning,
    reference,
    report,
    saved,
    wait_until,
)

SLOW_IMPORT = 1.0  # seconds a "slow" submission's ex1 sleeps at import
FIRST_RESULT_WAIT = 60.0
PARALLEL_CLASS = 8
PARALLEL_JOBS = 4  # a few at once, fewer than the submissions
INTERRUPT_AFTER = 0.3  # seconds after the first saved result, while the next one is graded
SUMMARY_PREFIX = "python -m grader: "


def slow_ex1(seconds: float = SLOW_IMPORT) -> str:
    """Exercise 1's reference solution, made to sleep at import: it still passes, later."""
    return f"import time\ntime.sleep({seconds})\n" + reference(EX1)


def make_class(folder: Path, names: list[str], slow: float | None = None) -> Path:
    """A folder of submissions, each the reference solutions (ex1 sleeping first when slow)."""
    for name in names:
        make_submission(folder / name, {EX1: slow_ex1(slow)} if slow else None)
    return folder


def progress_lines(stderr: str) -> list[str]:
    """The successive states the progress bar drew (text mode reads its \\r as a line end).

    The batch's summary line, which follows the bar, is left out.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return [line for line in lines if not line.startswith(SUMMARY_PREFIX)]


# --- saved results -----------------------------------------------------------------------


def test_a_second_run_reuses_every_saved_result(tmp_path: Path) -> None:
    klass = make_class(tmp_path / "class", ["ada", "ben", "cy"])
    results = tmp_path / "results"
    first = grader("--format", "json", "--submissions", str(klass), "--results-dir", str(results))
    assert first.returncode == 0
    records = saved(results)
    assert len(records) == 3
    second = grader(
        "--format", "json", "--progress", "--submissions", str(klass), "--results-dir", str(results)
    )
    assert second.returncode == 0
    assert saved(results) == records
    assert "3 saved" in progress_lines(second.stderr)[-1]
    assert report(second) == report(first)


def test_a_damaged_record_is_graded_again(tmp_path: Path) -> None:
    klass = make_class(tmp_path / "class", ["ada", "ben"])
    results = tmp_path / "results"
    args = ("--format", "json", "--submissions", str(klass), "--results-dir", str(results))
    first = grader(*args)
    damaged = sorted(results.glob("*.json"))[0]
    damaged.write_text('{"submission": ', encoding="utf-8")
    second = grader(*args, "--progress")
    assert second.returncode == 0
    assert "1 saved" in progress_lines(second.stderr)[-1]
    assert report(second) == report(first)
    assert damaged.read_text(encoding="utf-8").startswith("{")
    assert len(saved(results)) == 2


@pytest.mark.timeout(240)
def test_an_interrupted_batch_keeps_what_it_saved_and_finishes_on_a_rerun(tmp_path: Path) -> None:
    names = ["ada", "ben", "cy", "dee"]
    klass = make_class(tmp_path / "class", names, slow=SLOW_IMPORT)
    results = tmp_path / "results"
    args = ["--format", "json", "--jobs", "1", "--submissions", str(klass)]
    args += ["--results-dir", str(results)]
    batch = subprocess.Popen(
        [*GRADER, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C reaches the whole process group: so does this
    )
    try:
        assert wait_until(lambda: bool(saved(results)), FIRST_RESULT_WAIT)
        time.sleep(INTERRUPT_AFTER)
        os.killpg(batch.pid, signal.SIGINT)
        stdout, stderr = batch.communicate(timeout=RUN_LIMIT)
    finally:
        batch.kill()
        batch.wait()
    assert batch.returncode == 130, stderr
    assert stdout == ""
    assert stderr.splitlines()[-1].endswith(
        f"interrupted; results saved so far are kept in {results}"
    )
    assert "Traceback" not in stderr
    kept = saved(results)
    assert 1 <= len(kept) < len(names)
    leftovers = processes_mentioning(str(tmp_path))
    kill_all(leftovers)
    assert describe(leftovers) == []

    rerun = grader(*args, "--progress")
    assert rerun.returncode == 0
    assert f"{len(kept)} saved" in progress_lines(rerun.stderr)[-1]
    labels = [s["submission"] for s in report(rerun)["submissions"]]
    assert labels == [str(klass / name) for name in names]
    now = saved(results)
    assert len(now) == len(names)
    assert {name: now[name] for name in kept} == kept


# --- workers ------------------------------------------------------------------------------


def workers_of(batch: subprocess.Popen) -> list[psutil.Process]:
    """The batch's worker processes."""
    try:
        children = psutil.Process(batch.pid).children()
    except psutil.NoSuchProcess:
        return []
    return [child for child in children if child.name() == "grader-worker"]


@pytest.mark.timeout(120)
def test_a_worker_that_dies_costs_only_the_submission_it_was_grading(tmp_path: Path) -> None:
    names = ["ada", "ben", "cy"]
    klass = make_class(tmp_path / "class", names, slow=3 * SLOW_IMPORT)
    args = ["--format", "json", "--jobs", str(len(names)), "--submissions", str(klass)]
    batch = subprocess.Popen(
        [*GRADER, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert wait_until(lambda: len(workers_of(batch)) == len(names), FIRST_RESULT_WAIT)
        workers_of(batch)[0].kill()
        stdout, stderr = batch.communicate(timeout=RUN_LIMIT)
    finally:
        batch.kill()
        batch.wait()
    assert batch.returncode == 1, stderr
    submissions = json.loads(stdout)["submissions"]
    assert [s["submission"] for s in submissions] == [str(klass / name) for name in names]
    lost = [s for s in submissions if s["score"] != s["max_score"]]
    assert len(lost) == 1, submissions
    messages = [c["message"] for e in lost[0]["exercises"] for c in e["checks"]]
    assert messages, lost[0]
    assert all("could not grade this submission (the worker died)" in m for m in messages)
    summary = stderr.strip().splitlines()[-1]
    assert summary.startswith(SUMMARY_PREFIX) and ", 1 could not be graded;" in summary


# --- parallel grading -------------------------------------------------------------------


@pytest.mark.timeout(180)
def test_grading_in_parallel_changes_no_verdict(tmp_path: Path) -> None:
    """A class of correct solutions graded --jobs at a time, as by default, all pass."""
    names = [f"student{number:02}" for number in range(PARALLEL_CLASS)]
    klass = make_class(tmp_path / "class", names)
    done = grader("--format", "json", "--jobs", str(PARALLEL_JOBS), "--submissions", str(klass))
    failed = {
        f"{s['submission'][-9:]} {e['id']} {c['name']}": c["message"][:120]
        for s in report(done)["submissions"]
        for e in s["exercises"]
        for c in e["checks"]
        if not c["passed"]
    }
    assert failed == {}
    assert done.returncode == 0


# --- progress and order ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "shown"), [("--progress", True), ("--no-progress", False), (None, False)]
)
def test_the_progress_bar_is_drawn_on_stderr_only_when_asked(flag: str | None, shown: bool) -> None:
    done = grader("--format", "json", *([flag] if flag else []), "solutions")
    assert done.returncode == 0
    report(done)
    if shown:
        assert progress_lines(done.stderr)[-1].startswith("█" * 28)
        assert "1/1 graded, 1 all-pass" in progress_lines(done.stderr)[-1]
    else:
        assert done.stderr == ""


@pytest.mark.timeout(120)
def test_results_follow_the_order_given_not_the_order_finished(tmp_path: Path) -> None:
    slow = make_submission(tmp_path / "slow", {EX1: slow_ex1(2 * SLOW_IMPORT)})
    fast = make_submission(tmp_path / "fast")
    done = grader("--format", "json", "--progress", "--jobs", "2", str(slow), str(fast))
    assert done.returncode == 0
    finished = [line for line in progress_lines(done.stderr) if "graded" in line][1:]
    assert [line.endswith(str(fast)[-30:]) for line in finished] == [True, False], finished
    assert [s["submission"] for s in report(done)["submissions"]] == [str(slow), str(fast)]


def test_a_folder_of_submissions_is_graded_in_name_order_without_hidden_folders(
    tmp_path: Path,
) -> None:
    klass = make_class(tmp_path / "class", ["zoe", "ada", "Max"])
    (klass / ".git").mkdir()
    make_submission(klass / "_template")
    done = grader("--format", "json", "--submissions", str(klass))
    assert done.returncode == 0
    labels = [s["submission"] for s in report(done)["submissions"]]
    assert labels == [str(klass / name) for name in ("Max", "ada", "zoe")]
    assert all(len(s["exercises"]) == len(EXERCISES) for s in report(done)["submissions"])
