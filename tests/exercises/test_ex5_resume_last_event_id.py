"""The stub of exercise 5 sends every update with an id, and makes the mistake the exercise teaches.

It ignores ``Last-Event-ID``, so a reconnect replays the updates from the first:
seen through TestClient, and as the grader sees it in the real sandbox, where
"resume" and "caught up" alone fail.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from exercises import ex5_resume_last_event_id as stub
from grader.exercises import exercise
from grader.sandbox import Limits
from grader.sse import parse_event_stream
from tests.grader.helpers import failed_checks, graded_alone

ROOT = Path(__file__).resolve().parents[2]
EX5 = exercise("ex5")


def events(headers: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The stub's events, as (id, data), for one request with ``headers``."""
    with TestClient(stub.app) as client:
        response = client.get(EX5.path, headers=headers or {})
    assert response.headers["content-type"].startswith(EX5.media_type)
    return [(event.id, event.data) for event in parse_event_stream(response.content)]


def test_the_stub_sends_every_update_with_an_id_of_its_own() -> None:
    sent = events()
    assert [data for _, data in sent] == stub.updates
    assert len({event_id for event_id, _ in sent}) == len(stub.updates)
    assert all(event_id for event_id, _ in sent)


def test_the_stub_replays_from_the_first_update_on_a_reconnect() -> None:
    first = events()
    again = events({"Last-Event-ID": first[1][0]})
    assert again == first  # a resume would start with the third update


def test_the_grader_fails_the_stub_on_resuming_alone() -> None:
    failed = failed_checks(graded_alone(ROOT / "exercises", EX5, Limits(timeout=3.0)))
    assert sorted(failed) == ["caught up", "resume"], failed
    assert "started over from the first event" in failed["resume"]
