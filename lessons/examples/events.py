"""Server-Sent Events: GET /events sends three `data:` events, each ending in a blank line."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


def sse_events():
    for i in range(1, 4):
        yield f"data: event {i}\n\n"


@app.get("/events")
def events():
    return StreamingResponse(sse_events(), media_type="text/event-stream")
