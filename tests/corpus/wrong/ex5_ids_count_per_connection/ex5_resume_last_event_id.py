"""Numbers the events of each connection from 0: the resumed connection's ids name other
events, so the browser's next reconnect, with the last of them, goes back in the stream."""

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
    items = list(updates)
    start = last_event_id + 1 if last_event_id is not None else 0
    for sent, update in enumerate(items[start:]):
        yield ServerSentEvent(raw_data=update, id=str(sent))
