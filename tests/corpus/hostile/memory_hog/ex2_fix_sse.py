"""Exercise 2, but the generator keeps growing a buffer until memory runs out."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    history = bytearray()
    for msg in messages:
        while True:
            history += b"\xff" * (64 << 20)
        yield f"data: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
