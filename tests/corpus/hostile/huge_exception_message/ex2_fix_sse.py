"""Exercise 2, but the generator raises an exception whose message is 20 MB long."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        yield f"data: {msg}\n\n"
    raise RuntimeError("HUGE-MESSAGE " * ((20 << 20) // 13))


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
