"""The reference solution of exercise 4 follows a log as events, and stops when the client leaves.

First the solution's own behaviour, through TestClient with a log store that
records its reading; then the grader's verdict on it: in-process, and in the
real sandbox twenty times in a row, each grading drawing fresh inputs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from grader.exercises import exercise
from grader.runner import grade_in_process
from grader.sandbox import Limits
from solutions import ex4_stop_when_client_leaves as solution
from tests.grader.helpers import passes_with_fresh_inputs
from tests.log_support import RecordingLogs, record_logs, take_events

ROOT = Path(__file__).resolve().parents[2]
EX4 = exercise("ex4")
CHECKS = ["response", "content-type", "events", "stops"]
RUNS = 20
TIMEOUT = 5.0
SETTLE = 0.2  # long enough for a reader nobody stopped to read many more lines


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> RecordingLogs:
    """The recording log store in place of the solution's own."""
    return record_logs(monkeypatch, solution)


@pytest.fixture
def client() -> Iterator[TestClient]:
    """One client, one event loop for every request: a reader left running would go on."""
    with TestClient(solution.app) as test_client:
        yield test_client


def test_each_line_of_the_named_log_is_an_event(client: TestClient, logs: RecordingLogs) -> None:
    content_type, found = take_events(client, "api-ünï", 4)
    assert content_type.startswith("text/event-stream")
    assert found == [f"api-ünï #{n} déjà ✓" for n in range(1, 5)]
    assert logs.names == ["api-ünï"]


def test_the_reading_stops_when_the_client_leaves(client: TestClient, logs: RecordingLogs) -> None:
    take_events(client, "worker", 3)
    assert logs.closed.wait(1.0), "the log's reader was never closed"
    read = logs.read
    time.sleep(SETTLE)
    assert logs.read == read <= 4, "the log was still read after the client left"


def test_the_grader_passes_it_in_process() -> None:
    result = grade_in_process(ROOT / "solutions", EX4, TIMEOUT)
    assert [check.name for check in result.checks] == CHECKS
    assert result.passed, result.failures()
    stops = result.checks[-1].message
    assert "stopped reading the log within" in stops
    assert "In-process" in stops  # the verdict says which client it rests on


def test_the_sandbox_passes_it_twenty_times_with_fresh_inputs() -> None:
    graded = passes_with_fresh_inputs(
        ROOT / "solutions", EX4, Limits(timeout=TIMEOUT), RUNS, CHECKS
    )
    assert all("In-process" not in result.checks[-1].message for result in graded)
