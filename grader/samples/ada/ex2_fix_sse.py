from collections.abc import AsyncIterable

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


@app.get("/messages", response_class=EventSourceResponse)
async def stream_messages() -> AsyncIterable[ServerSentEvent]:
    for msg in messages:
        yield ServerSentEvent(raw_data=msg)
