"""lessons/examples/events.py: GET /events prints what the lesson shows, one event per chunk."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from grader.sse import Event, parse_event_stream
from lessons.examples import events

# What the lesson prints for GET /events, line for line.
LESSON_PRINTOUT = r"""content-type: text/event-stream; charset=utf-8
body: 'data: event 1\n\ndata: event 2\n\ndata: event 3\n\n'"""


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(events.app) as client:
        yield client


def test_get_events_prints_what_the_lesson_shows(client: TestClient):
    r = client.get("/events")
    assert r.status_code == 200
    assert f"content-type: {r.headers['content-type']}\nbody: {r.text!r}" == LESSON_PRINTOUT


def test_each_event_arrives_as_its_own_chunk(client: TestClient):
    with client.stream("GET", "/events") as r:
        chunks = list(r.iter_raw())
    assert chunks == [b"data: event 1\n\n", b"data: event 2\n\n", b"data: event 3\n\n"]


def test_a_browser_fires_one_message_event_per_chunk(client: TestClient):
    with client.stream("GET", "/events") as r:
        fired = [parse_event_stream(chunk) for chunk in r.iter_raw()]
    assert fired == [[Event(data="event 1")], [Event(data="event 2")], [Event(data="event 3")]]
