"""Each update's own text is its id: distinct, but not ASCII, and a header does not bring it back.

A browser sends Last-Event-ID as UTF-8 bytes; Starlette reads header bytes as Latin-1.
"""

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
    start = items.index(last_event_id) + 1 if last_event_id in items else 0
    for update in items[start:]:
        yield ServerSentEvent(raw_data=update, id=update)
