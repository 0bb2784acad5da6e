"""Formats every event right but joins them and yields once: all events in one chunk."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    yield "".join(f"data: {msg}\n\n" for msg in messages)


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
