"""FastAPI's tutorial: the header declared as an int. An id it never sent is not a number, so
FastAPI refuses it with 422, which a browser reports to the page."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import FastAPI, Header
from fastapi.sse import EventSourceResponse, ServerSentEvent

app = FastAPI()

updates = ["order placed", "payment confirmed", "packed", "shipped", "delivered"]


@app.get("/updates", response_class=EventSourceResponse)
async def stream_updates(
    last_event_id: Annotated[int | None, Header()] = None,
) -> AsyncIterator[ServerSentEvent]:
    start = last_event_id + 1 if last_event_id is not None else 0
    for number, update in enumerate(list(updates)):
        if number >= start:
            yield ServerSentEvent(raw_data=update, id=str(number))
