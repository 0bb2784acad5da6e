"""Exercise 2, but the generator ends the whole server process after the first event."""

import os

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for number, msg in enumerate(messages):
        if number == 1:
            os._exit(0)
        yield f"data: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
