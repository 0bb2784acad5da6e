"""The reference solution of exercise 3 streams the client's tokens from an async generator."""

import inspect

from fastapi.testclient import TestClient

from grader.sse import parse_event_stream
from solutions import ex3_async_tokens as solution

client = TestClient(solution.app)


def test_the_generator_is_async():
    assert inspect.isasyncgenfunction(solution.token_stream)


def test_tokens_arrive_as_events_with_their_leading_spaces():
    r = client.get("/tokens")
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert [e.data for e in parse_event_stream(r.content)] == ["Hello", ",", " world", "!"]


def test_the_prompt_reaches_the_client(monkeypatch):
    seen = []

    class RecordingClient:
        async def stream(self, prompt):
            seen.append(prompt)
            yield "ok"

    monkeypatch.setattr(solution, "client", RecordingClient())
    client.get("/tokens", params={"prompt": "Tell me more"})
    client.get("/tokens")
    assert seen == ["Tell me more", "Say hello"]
