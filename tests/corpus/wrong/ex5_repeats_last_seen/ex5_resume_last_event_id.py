"""Resumes AT the event whose id came back instead of after it: the browser shows it twice."""

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
    ids = [str(number) for number in range(len(items))]
    start = ids.index(last_event_id) if last_event_id in ids else 0
    for number in range(start, len(items)):
        yield ServerSentEvent(raw_data=items[number], id=ids[number])
