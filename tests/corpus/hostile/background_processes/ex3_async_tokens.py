"""Exercise 3, correct, but importing it starts a multiprocessing worker that never ends."""

import asyncio
import multiprocessing
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


def warm_cache():
    while True:
        time.sleep(3600)


worker = multiprocessing.Process(target=warm_cache)
worker.start()

client = FakeAIClient()
app = FastAPI()


async def token_stream(prompt: str):
    async for token in client.stream(prompt):
        yield f"data: {token}\n\n"


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
