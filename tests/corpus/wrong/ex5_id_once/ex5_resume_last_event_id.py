"""Writes the id only on the first event: a browser keeps that id for every later event."""

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
    for number, update in enumerate(list(updates)):
        yield ServerSentEvent(raw_data=update, id="updates" if number == 0 else None)
