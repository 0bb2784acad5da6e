"""Ids like 'evt-3', found again through a dict; an unknown id starts over."""

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
    after = {f"evt-{number}": number + 1 for number in range(len(items))}
    for number in range(after.get(last_event_id or "", 0), len(items)):
        yield ServerSentEvent(raw_data=items[number], id=f"evt-{number}")
