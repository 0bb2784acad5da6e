"""The path operation itself yields ServerSentEvent(raw_data=token), with EventSourceResponse."""

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent


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


@app.get("/tokens", response_class=EventSourceResponse)
async def stream_tokens(prompt: str = "Say hello") -> AsyncIterator[ServerSentEvent]:
    async for token in client.stream(prompt):
        yield ServerSentEvent(raw_data=token)
