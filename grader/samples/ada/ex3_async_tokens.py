import asyncio
from collections.abc import AsyncIterable, AsyncIterator

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent


class FakeAIClient:
    def __init__(self, tokens=("Hello", ",", " world", "!")):
        self.tokens = tokens

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        for token in self.tokens:
            await asyncio.sleep(0.05)
            yield token


client = FakeAIClient()
app = FastAPI()


@app.get("/tokens", response_class=EventSourceResponse)
async def stream_tokens(prompt: str = "Say hello") -> AsyncIterable[ServerSentEvent]:
    async for token in client.stream(prompt):
        yield ServerSentEvent(raw_data=token)
