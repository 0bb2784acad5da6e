"""Ids like 'evt-3', read back with int(): an id it never sent raises ValueError, a 500."""

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
    start = int(last_event_id.removeprefix("evt-")) + 1 if last_event_id else 0
    for number in range(start, len(items)):
        yield ServerSentEvent(raw_data=items[number], id=f"evt-{number}")
