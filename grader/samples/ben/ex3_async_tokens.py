import asyncio

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


def token_stream(prompt):
    loop = asyncio.new_event_loop()
    tokens = client.stream(prompt)
    try:
        while True:
            try:
                token = loop.run_until_complete(tokens.__anext__())
            except StopAsyncIteration:
                break
            yield f"data: {token}\n\n"
    finally:
        loop.close()


@app.get("/tokens")
def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
