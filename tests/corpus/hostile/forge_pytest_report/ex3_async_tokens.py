"""Exercise 3: sync or async generator?

GET /tokens?prompt=TEXT (prompt defaults to "Say hello") must pass TEXT to
`client.stream` and stream one Server-Sent Event per token, its data exactly
the token, as text/event-stream. Each token of `client.stream()` must be
awaited. Decide whether `token_stream` should be a `def` or an `async def`
generator, and write it.
"""

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


def token_stream(prompt: str):
    raise NotImplementedError(
        "exercise 3: stream each token of client.stream(prompt) as an SSE event; "
        "should this generator be def or async def?"
    )
    yield  # keeps this function a generator


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
