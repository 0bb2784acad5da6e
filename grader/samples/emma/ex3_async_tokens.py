import asyncio
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


class FakeAIClient:
    def __init__(self, tokens=("Hello", ",", " world", "!")):
        self.tokens = tokens

    async def stream(self, prompt):
        for token in self.tokens:
            await asyncio.sleep(0.05)
            yield token


client = FakeAIClient()
app = FastAPI()


async def token_stream(prompt):
    async for token in client.stream(prompt):
        time.sleep(0.1)  # "simulate the model thinking"
        yield f"data: {token}\n\n"


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
