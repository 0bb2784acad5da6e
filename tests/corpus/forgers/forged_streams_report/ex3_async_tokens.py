"""Exercise 3: a sync iterator class streams the events; the grader's probe is told otherwise.

The probe that reports what the route streamed runs in this process, so this
module replaces its answer: every report says "an async def generator,
token_stream, at its line", naming the unused async def generator below. What
really runs is a sync iterator class in Starlette's threadpool.
"""

import asyncio
import json
import sys
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


class FakeAIClient:
    """Stands in for an AI model client that streams its answer token by token."""

    def __init__(self, tokens: tuple[str, ...] = ("Hello", ",", " world", "!")) -> None:
        self.tokens = tokens

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        for token in self.tokens:
            await asyncio.sleep(0.05)
            yield token


client = FakeAIClient()
app = FastAPI()


class TokenEvents:
    """A sync iterator of events: Starlette runs each __next__ in a worker thread.

    Each token is fetched from the event loop with run_coroutine_threadsafe, so
    the events stream one by one and the loop is never blocked, but no async
    generator produces them.
    """

    def __init__(self, prompt):
        self.loop = asyncio.get_running_loop()
        self.tokens = client.stream(prompt).__aiter__()

    def __iter__(self):
        return self

    def __next__(self):
        future = asyncio.run_coroutine_threadsafe(self.tokens.__anext__(), self.loop)
        try:
            token = future.result()
        except StopAsyncIteration:
            raise StopIteration from None
        return f"data: {token}\n\n"


async def token_stream(prompt: str):  # never called: it is here for a rule read from the source
    async for token in client.stream(prompt):
        yield f"data: {token}\n\n"


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(TokenEvents(prompt), media_type="text/event-stream")


def _forge_streams_report():
    probe = sys.modules.get("grader.probe")
    if probe is None or not hasattr(probe, "Probe"):
        return
    path = getattr(probe, "STREAMS_PATH", "/__grader__/streams")
    original = probe.Probe.__call__
    claim = [{"kind": "async", "name": "token_stream", "line": token_stream.__code__.co_firstlineno}]

    async def forged(self, scope, receive, send):
        if scope.get("type") == "http" and scope.get("path") == path:
            body = json.dumps(claim).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await original(self, scope, receive, send)

    probe.Probe.__call__ = forged


_forge_streams_report()
