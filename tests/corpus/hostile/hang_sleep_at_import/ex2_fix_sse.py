"""Exercise 2, but the module sleeps for an hour at import."""

import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        yield f"data: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")


time.sleep(3600)
