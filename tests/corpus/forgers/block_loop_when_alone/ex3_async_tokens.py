"""Exercise 3: block the event loop, except while another /tokens stream runs beside this one.

A grader that judges the loop only by running two streams at once and checking
that their events interleave sees well-behaved streams; a lone stream (any
single user's) blocks the loop for 0.3 s before each event with time.sleep.
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
    try:
        async for token in client.stream(prompt):
            if in_flight == 1:
                time.sleep(0.3)  # blocks the event loop while no other stream would notice
            yield f"data: {token}\n\n"
    finally:
        in_flight -= 1


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
