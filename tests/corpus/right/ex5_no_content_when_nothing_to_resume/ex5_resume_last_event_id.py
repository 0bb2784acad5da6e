"""Answers 204 No Content when there is nothing to resume: after the last event, or for an id
it never sent. A browser then stops reconnecting (and tells the page, for the unknown id)."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import FastAPI, Header, Response
from fastapi.responses import StreamingResponse

app = FastAPI()

updates = ["order placed", "payment confirmed", "packed", "shipped", "delivered"]


async def event_stream(items: list[str], ids: list[str], start: int) -> AsyncIterator[str]:
    for number in range(start, len(items)):
        yield f"id: {ids[number]}\ndata: {items[number]}\n\n"


@app.get("/updates")
async def stream_updates(last_event_id: Annotated[str | None, Header()] = None) -> Response:
    items = list(updates)
    ids = [f"u-{number}" for number in range(len(items))]
    if last_event_id is not None and last_event_id not in ids[:-1]:
        return Response(status_code=204)
    start = ids.index(last_event_id) + 1 if last_event_id is not None else 0
    return StreamingResponse(event_stream(items, ids, start), media_type="text/event-stream")
