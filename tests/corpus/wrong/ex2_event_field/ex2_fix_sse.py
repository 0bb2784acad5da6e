"""Adds `event: update` to each event, so EventSource's onmessage never sees them."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        yield f"event: update\ndata: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
