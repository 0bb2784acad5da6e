"""The endpoint defines a plain def generator inside itself, driving its own event loop."""

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


@app.get("/tokens")
def stream_tokens(prompt: str = "Say hello"):
    def token_stream():
        loop = asyncio.new_event_loop()
        tokens = client.stream(prompt)
        try:
            while True:
                try:
                    token = loop.run_until_complete(anext(tokens))
                except StopAsyncIteration:
                    break
                yield f"data: {token}\n\n"
        finally:
            loop.close()

    return StreamingResponse(token_stream(), media_type="text/event-stream")
