"""Looks the id up with a default past the end: an id it never sent gets an empty stream, and
the client silently misses every update."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import FastAPI, Header
from fastapi.sse import EventSourceResponse, ServerSentEvent

app = FastAPI()

updates = ["order placed", "payment confirmed", "packed", "shipped", "delivered"]


@app.get("/updates", response_class=EventSourceResponse)
async def stream_updates(
    last_event_id: Annotated[str | None, Header()] = None,
) -> AsyncIterator[ServerSentEvent]:
    items = list(updates)
    position = {f"u{number}": number for number in range(len(items))}
    start = position.get(last_event_id, len(items)) + 1 if last_event_id else 0
    for number in range(start, len(items)):
        yield ServerSentEvent(raw_data=items[number], id=f"u{number}")
