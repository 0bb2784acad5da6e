"""Uses FastAPI's own SSE: EventSourceResponse and ServerSentEvent(raw_data=msg)."""

from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


@app.get("/messages", response_class=EventSourceResponse)
async def stream_messages() -> AsyncIterator[ServerSentEvent]:
    for msg in messages:
        yield ServerSentEvent(raw_data=msg)
