"""lessons/examples/native_sse.py: FastAPI's EventSourceResponse encodes, adds headers, pings."""

from collections.abc import Iterator

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from grader.sse import Event, parse_event_stream
from lessons.examples import native_sse

NEWS_BODY = (
    'data: "hello"\n\n'
    "data: hello\n\n"
    'data: {"headline":"SSE is built in","since":"0.135"}\n\n'
    ": all fields\nevent: score\ndata: [1, 2]\nid: 7\nretry: 3000\n\n"
)
PING = b": ping\n\n"
DEMO_PING_INTERVAL_S = 0.1


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(native_sse.app) as client:
        yield client


def test_news_encodes_data_as_json_and_raw_data_as_is(client: TestClient):
    r = client.get("/news")
    assert r.status_code == 200
    assert r.text == NEWS_BODY


def test_news_sends_the_streaming_headers(client: TestClient):
    headers = client.get("/news").headers
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert headers["cache-control"] == "no-cache"
    assert headers["x-accel-buffering"] == "no"


def test_a_browser_sees_json_text_and_the_named_event(client: TestClient):
    events = parse_event_stream(client.get("/news").content)
    assert events == [
        Event(data='"hello"'),
        Event(data="hello"),
        Event(data='{"headline":"SSE is built in","since":"0.135"}'),
        Event(data="[1, 2]", event="score", id="7"),
    ]


def test_a_quiet_stream_gets_a_keep_alive_ping(client: TestClient, monkeypatch):
    # fastapi.routing holds the copy of the interval that its keep-alive loop reads.
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", DEMO_PING_INTERVAL_S)
    chunks = []
    with client.stream("GET", "/quiet") as r:
        for chunk in r.iter_raw():
            chunks.append(chunk)
            if chunk == PING:
                break
    assert chunks == [b'data: "first"\n\n', PING]
    assert DEMO_PING_INTERVAL_S < native_sse.QUIET_SECONDS
