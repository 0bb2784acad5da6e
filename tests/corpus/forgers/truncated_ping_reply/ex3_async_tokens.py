"""Exercise 3: block the event loop between tokens, and cut the grader's ping replies short.

The grader's probe runs in this process, so this module can replace it: a ping
reply that promises 1000 bytes and sends 5 ends a loop watch that reads it
early. The generator sleeps 0.4 s with time.sleep before each event, which
blocks the whole event loop.
"""

import asyncio
import sys
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

probe = sys.modules.get("grader.probe")
if probe is not None and hasattr(probe, "Probe"):
    PING = getattr(probe, "PING_PATH", "/__grader__/ping")
    original = probe.Probe.__call__

    async def forged(self, scope, receive, send):
        if scope.get("type") == "http" and scope.get("path") == PING:
            headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b'{"thr', "more_body": False})
            return
        await original(self, scope, receive, send)

    probe.Probe.__call__ = forged


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


async def token_stream(prompt: str):
    async for token in client.stream(prompt):
        time.sleep(0.4)  # blocks the event loop
        yield f"data: {token}\n\n"


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
