"""Sends a `: keep-alive` comment before every event; browsers ignore comments."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        yield ": keep-alive\n\n"
        yield f"data: {msg}\n\n"
    yield ": bye\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
