"""The reference solution of exercise 5 resumes after the Last-Event-ID a browser sends back.

First the solution's own behaviour, through TestClient and the browser's parser;
then the grader's verdict on it: in-process, and in the real sandbox twenty
times in a row, each grading drawing fresh inputs from a fresh seed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from grader.exercises import exercise
from grader.runner import grade_in_process
from grader.sandbox import Limits
from grader.sse import parse_event_stream
from solutions import ex5_resume_last_event_id as solution
from tests.grader.helpers import passes_with_fresh_inputs

ROOT = Path(__file__).resolve().parents[2]
EX5 = exercise("ex5")
CHECKS = [
    *("response", "content-type", "events", "chunks", "ids"),
    *("resume", "caught up", "unknown id"),
]
RUNS = 20
TIMEOUT = 5.0
OTHER_UPDATES = ["déjà vu", "naïve ✓", "straße", "🙂 done"]

client = TestClient(solution.app)


@pytest.fixture(params=["lesson", "other"])
def updates(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The module's updates, then others put in their place, which the stream must follow."""
    if request.param == "other":
        monkeypatch.setattr(solution, "updates", list(OTHER_UPDATES))
    return list(solution.updates)


def events(headers: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(id, data) of each event a browser fires for one request."""
    response = client.get("/updates", headers=headers or {})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    return [(event.id, event.data) for event in parse_event_stream(response.content)]


def test_every_event_carries_its_update_and_an_id_of_its_own(updates: list[str]) -> None:
    found = events()
    assert [data for _, data in found] == updates
    ids = [event_id for event_id, _ in found]
    assert all(ids) and len(set(ids)) == len(ids), ids


def test_a_reconnect_goes_on_right_after_each_id(updates: list[str]) -> None:
    found = events()
    for k, (event_id, _) in enumerate(found, start=1):
        assert events({"Last-Event-ID": event_id}) == found[k:], f"after event {k}"


def test_an_id_never_sent_starts_over(updates: list[str]) -> None:
    assert events({"Last-Event-ID": "never-sent"}) == events()


def test_the_grader_passes_it_in_process() -> None:
    result = grade_in_process(ROOT / "solutions", EX5, TIMEOUT)
    assert [check.name for check in result.checks] == CHECKS
    assert result.passed, result.failures()


def test_the_sandbox_passes_it_twenty_times_with_fresh_inputs() -> None:
    passes_with_fresh_inputs(ROOT / "solutions", EX5, Limits(timeout=TIMEOUT), RUNS, CHECKS)
