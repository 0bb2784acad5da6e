"""Exercise 3, reference solution: an async generator awaits each token, then yields it."""

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


class FakeAIClient:
    """Stands in for an AI model client that streams its answer token by token."""

    def __init__(self, tokens: tuple[str, ...] = ("Hello", ",", " world", "!")) -> None:
        self.tokens = tokens

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        for token in self.tokens:
            await asyncio.sleep(0.05)  # a round trip to the model for every token
            yield token


client = FakeAIClient()
app = FastAPI()


async def token_stream(prompt: str):
    async for token in client.stream(prompt):
        yield f"data: {token}\n\n"


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
