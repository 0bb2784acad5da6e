"""lessons/examples/progress.py: the async generator's updates arrive in yield order."""

import inspect
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from grader.sse import parse_event_stream
from lessons.examples import progress

# What the lesson prints for GET /progress, line for line.
LESSON_PRINTOUT = r"""content-type: text/event-stream; charset=utf-8
body: 'data: 25%\n\ndata: 50%\n\ndata: 75%\n\ndata: 100%\n\n'"""


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(progress.app) as client:
        yield client


def test_get_progress_prints_what_the_lesson_shows(client: TestClient):
    r = client.get("/progress")
    assert r.status_code == 200
    assert f"content-type: {r.headers['content-type']}\nbody: {r.text!r}" == LESSON_PRINTOUT


def test_each_update_arrives_as_its_own_chunk(client: TestClient):
    with client.stream("GET", "/progress") as r:
        chunks = list(r.iter_raw())
    assert chunks == [b"data: 25%\n\n", b"data: 50%\n\n", b"data: 75%\n\n", b"data: 100%\n\n"]


def test_a_browser_sees_the_updates_in_yield_order(client: TestClient):
    events = parse_event_stream(client.get("/progress").content)
    assert [event.data for event in events] == ["25%", "50%", "75%", "100%"]


def test_progress_stream_is_an_async_generator():
    assert inspect.isasyncgenfunction(progress.progress_stream)
