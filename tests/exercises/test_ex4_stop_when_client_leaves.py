"""The stub of exercise 4 streams the right events, and makes the mistake the exercise teaches.

Its reading task outlives the request: after the client left, the log is still
read, both as seen through TestClient with a recording log store and as the
grader sees it from its feed in the real sandbox, where "stops" alone fails.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from exercises import ex4_stop_when_client_leaves as stub
from grader.exercises import exercise
from grader.runner import grade_submission
from grader.sandbox import Limits
from tests.log_support import RecordingLogs, record_logs, take_events

ROOT = Path(__file__).resolve().parents[2]
EX4 = exercise("ex4")
SETTLE = 0.2  # the recording log grows by a line every 10 ms meanwhile


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> RecordingLogs:
    """The recording log store in place of the stub's own."""
    return record_logs(monkeypatch, stub)


@pytest.fixture
def client() -> Iterator[TestClient]:
    """One client, one event loop for every request, so the stub's reading task lives on."""
    with TestClient(stub.app) as test_client:
        yield test_client
        for reader in list(stub.readers):  # the test's own clean-up: the stub never stops it
            test_client.portal.call(reader.cancel)


def test_the_stub_streams_each_line_as_an_event(client: TestClient, logs: RecordingLogs) -> None:
    content_type, found = take_events(client, "api", 3)
    assert content_type.startswith("text/event-stream")
    assert found == [f"api #{n} déjà ✓" for n in range(1, 4)]


def test_the_stub_goes_on_reading_after_the_client_left(
    client: TestClient, logs: RecordingLogs
) -> None:
    take_events(client, "api", 3)
    read = logs.read
    time.sleep(SETTLE)
    assert logs.read > read + 5
    assert not logs.closed.is_set()


def test_the_grader_fails_the_stub_on_stopping_alone() -> None:
    result = grade_submission(ROOT / "exercises", Limits(timeout=5.0), exercises=(EX4,))
    graded = result.exercise(EX4.id)
    failed = {check.name: check.message for check in graded.failures()}
    assert list(failed) == ["stops"], failed
    assert "went on reading the log for" in failed["stops"]
    assert "still reading when the grader stopped watching" in failed["stops"]
