"""The reference solution of exercise 2 sends one complete event per message."""

from fastapi.testclient import TestClient

from grader.sse import parse_event_stream
from solutions import ex2_fix_sse as solution

client = TestClient(solution.app)


def test_a_browser_fires_one_message_event_per_message():
    r = client.get("/messages")
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert [e.data for e in parse_event_stream(r.content)] == solution.messages


def test_each_event_ends_with_a_blank_line():
    with client.stream("GET", "/messages") as r:
        assert all(chunk.endswith(b"\n\n") for chunk in r.iter_raw())
