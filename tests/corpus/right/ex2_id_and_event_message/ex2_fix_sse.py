"""Numbers the events with id: and names their type explicitly with event: message."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for number, msg in enumerate(messages, start=1):
        yield f"id: {number}\nevent: message\ndata: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
