"""A plain def path operation that yields: FastAPI runs it in the threadpool."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import FastAPI, Header
from fastapi.sse import EventSourceResponse, ServerSentEvent

app = FastAPI()

updates = ["order placed", "payment confirmed", "packed", "shipped", "delivered"]


@app.get("/updates", response_class=EventSourceResponse)
def stream_updates(
    last_event_id: Annotated[str | None, Header()] = None,
) -> Iterator[ServerSentEvent]:
    items = list(updates)
    ids = [str(number) for number in range(len(items))]
    start = ids.index(last_event_id) + 1 if last_event_id in ids else 0
    for number in range(start, len(items)):
        yield ServerSentEvent(raw_data=items[number], id=ids[number])
