"""Uses FastAPI's EventSourceResponse with ServerSentEvent(data=msg): the data goes out JSON-quoted."""

from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


@app.get("/messages", response_class=EventSourceResponse)
async def stream_messages() -> AsyncIterator[ServerSentEvent]:
    for msg in messages:
        yield ServerSentEvent(data=msg)
