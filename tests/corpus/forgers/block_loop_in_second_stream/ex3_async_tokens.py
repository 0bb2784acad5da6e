"""Exercise 3: block the event loop, but only in a stream that starts while another one runs.

The grader judges the loop by running two streams at once; here the stream
that arrives second sleeps 0.3 s with time.sleep before each event, blocking
the whole event loop, while the first one behaves, so the two streams differ.
"""

import asyncio
import time
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
in_flight = 0


async def token_stream(prompt: str):
    global in_flight
    in_flight += 1
    second = in_flight > 1
    try:
        async for token in client.stream(prompt):
            if second:
                time.sleep(0.3)  # blocks the event loop, for every request in flight
            yield f"data: {token}\n\n"
    finally:
        in_flight -= 1


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
