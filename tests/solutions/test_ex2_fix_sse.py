"""The reference solution of exercise 2 sends one complete event per message."""

import pytest
from fastapi.testclient import TestClient

from grader.sse import parse_event_stream
from solutions import ex2_fix_sse as solution

client = TestClient(solution.app)
OTHER_MESSAGES = ["déjà vu", "", "  spaced  ", "last one"]


@pytest.fixture(params=["lesson", "other"])
def messages(request, monkeypatch) -> list[str]:
    """The lesson's messages, then others put in their place, which the stream must follow."""
    if request.param == "other":
        monkeypatch.setattr(solution, "messages", list(OTHER_MESSAGES))
    return list(solution.messages)


def test_a_browser_fires_one_message_event_per_message(messages):
    r = client.get("/messages")
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert [e.data for e in parse_event_stream(r.content)] == messages


def test_each_message_is_one_chunk_holding_one_complete_event(messages):
    with client.stream("GET", "/messages") as r:
        chunks = list(r.iter_raw())
    assert len(chunks) == len(messages), chunks
    for chunk, message in zip(chunks, messages, strict=True):
        assert chunk.endswith(b"\n\n"), f"{chunk!r} does not end with a blank line"
        assert [e.data for e in parse_event_stream(chunk)] == [message], chunk
