"""A hand-written text/event-stream: 'id:3' with no space, id before data, CRLF line ends, the
header read from the request; an id it never sent is refused with 404 before streaming."""

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse

app = FastAPI()

updates = ["order placed", "payment confirmed", "packed", "shipped", "delivered"]


def event_stream(items: list[str], start: int):
    for number in range(start, len(items)):
        yield f"id:{number}\r\ndata:{items[number]}\r\n\r\n"


@app.get("/updates")
def stream_updates(request: Request) -> StreamingResponse:
    items = list(updates)
    last = request.headers.get("last-event-id")
    ids = [str(number) for number in range(len(items))]
    if last is not None and last not in ids:
        raise HTTPException(status_code=404, detail=f"unknown event id {last!r}")
    start = ids.index(last) + 1 if last is not None else 0
    return StreamingResponse(event_stream(items, start), media_type="text/event-stream")
