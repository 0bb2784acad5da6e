"""Exercise 5 (challenge), reference solution: a reconnect resumes right after its Last-Event-ID.

Each event carries an `id:`; a browser's EventSource that loses the connection
reconnects with `Last-Event-ID: <the last id it saw>`, and the stream goes on
with the event after that one. An id this server never sent (an older
deployment's, or one made up) cannot be placed, so the stream starts over: the
client gets every update again, each with its id, and may drop the ones it had.
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
    items = list(updates)  # the updates as they are when the request comes in
    ids = [str(number) for number in range(len(items))]
    start = ids.index(last_event_id) + 1 if last_event_id in ids else 0
    for number in range(start, len(items)):
        yield ServerSentEvent(raw_data=items[number], id=ids[number])
