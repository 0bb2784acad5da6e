"""Declares last_event_id without Header(): FastAPI reads it from the query string, where a
browser never puts it, so every reconnect starts over."""

from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent

app = FastAPI()

updates = ["order placed", "payment confirmed", "packed", "shipped", "delivered"]


@app.get("/updates", response_class=EventSourceResponse)
async def stream_updates(last_event_id: str | None = None) -> AsyncIterator[ServerSentEvent]:
    items = list(updates)
    ids = [str(number) for number in range(len(items))]
    start = ids.index(last_event_id) + 1 if last_event_id in ids else 0
    for number in range(start, len(items)):
        yield ServerSentEvent(raw_data=items[number], id=ids[number])
