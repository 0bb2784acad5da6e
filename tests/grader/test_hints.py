"""The hint progression (grader/hints.py): a nudge first, the lesson's hint after a few failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.hints import (
    CHECK_NUDGES,
    ENV_FILE,
    FALLBACK_NUDGE,
    OPEN_AFTER,
    FailureLog,
    default_path,
    first_time,
    nudge,
)
from grader.results import Check, ExerciseResult

NUDGE = "Look at what your generator yields after each message."


def ex2(*, events: bool, content_type: bool = True) -> ExerciseResult:
    """An ex2 result whose events and content-type checks passed or failed."""
    return ExerciseResult(
        "ex2",
        [
            Check("content-type", content_type, "content-type message"),
            Check("events", events, "events message", nudge="" if events else NUDGE),
        ],
    )


@pytest.fixture
def log(tmp_path: Path) -> FailureLog:
    """A failure log in a file of the test's own."""
    return FailureLog(tmp_path / "cache" / "hints.json")


def test_a_first_failure_nudges_and_keeps_the_hint_folded(log, tmp_path):
    state = log.record(tmp_path, ex2(events=False))
    assert state.failed and state.nudge == NUDGE
    assert state.hint == EX2.hint
    assert (state.failures, state.open) == (1, False)


def test_the_hint_opens_after_the_same_check_failed_often_enough(log, tmp_path):
    states = [log.record(tmp_path, ex2(events=False)) for _ in range(OPEN_AFTER + 1)]
    assert [s.open for s in states] == [False] * (OPEN_AFTER - 1) + [True, True]
    assert states[-1].failures == OPEN_AFTER + 1


def test_different_checks_failing_in_turn_do_not_add_up(log, tmp_path):
    for turn in range(OPEN_AFTER):
        state = log.record(tmp_path, ex2(events=turn % 2 == 0, content_type=turn % 2 == 1))
    assert not state.open


def test_a_pass_starts_the_check_afresh(log, tmp_path):
    for _ in range(OPEN_AFTER):
        log.record(tmp_path, ex2(events=False))
    log.record(tmp_path, ex2(events=True))
    state = log.record(tmp_path, ex2(events=False))
    assert (state.failures, state.open) == (1, False)


def test_a_passed_exercise_has_nothing_to_hint(log, tmp_path):
    state = log.record(tmp_path, ex2(events=True))
    assert not state.failed and not state.open


def test_counts_survive_a_restart_and_are_kept_per_folder_and_exercise(log, tmp_path):
    for _ in range(OPEN_AFTER - 1):
        log.record(tmp_path / "a", ex2(events=False))
    again = FailureLog(log.path)  # a new kernel reads the same file
    assert again.record(tmp_path / "a", ex2(events=False)).open
    assert not again.record(tmp_path / "b", ex2(events=False)).open
    other = ExerciseResult("ex1", [Check("events", False, "m")])
    assert not again.record(tmp_path / "a", other).open
    assert again.record(tmp_path / "a", other).hint == EX1.hint


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        json.dumps({"version": 99, "counts": {}}).encode(),
        json.dumps({"version": 1, "counts": []}).encode(),
        json.dumps({"version": 1, "counts": {"x": 3}}).encode(),
        json.dumps({"version": 1, "counts": {"KEY": {"events": "many", "x": True}}}).encode(),
    ],
    ids=["truncated", "binary", "list", "other version", "counts list", "counts int", "bad n"],
)
def test_a_corrupt_file_counts_as_empty(log, tmp_path, content):
    log.path.parent.mkdir(parents=True)
    key = f"{tmp_path.resolve()}::ex2"
    log.path.write_bytes(content.replace(b"KEY", key.encode()))
    state = log.record(tmp_path, ex2(events=False))
    assert (state.failures, state.open) == (1, False)
    assert json.loads(log.path.read_text())["counts"][key] == {"events": 1}


def test_a_file_that_cannot_be_written_never_fails_a_check(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    log = FailureLog(blocker / "hints.json")
    assert log.record(tmp_path, ex2(events=False)).failures == 1
    assert log.record(tmp_path, ex2(events=False)).failures == 1  # nothing kept, nothing raised


def test_a_first_time_result_needs_no_file():
    state = first_time(ex2(events=False))
    assert (state.nudge, state.failures, state.open) == (NUDGE, 1, False)


def test_a_check_without_a_nudge_gets_its_exercise_s_or_its_check_s_one():
    assert nudge(Check("streams", False, "m"), EX3.id) == EX3.nudges["streams"]
    assert nudge(Check("chunks", False, "m"), EX3.id) == CHECK_NUDGES["chunks"]
    assert nudge(Check("something new", False, "m")) == FALLBACK_NUDGE
    assert nudge(Check("streams", False, "m", nudge="Own nudge."), EX3.id) == "Own nudge."


def test_the_file_is_named_by_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_FILE, str(tmp_path / "mine.json"))
    assert default_path() == tmp_path / "mine.json"
    monkeypatch.delenv(ENV_FILE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "sse-grader" / "hints.json"
