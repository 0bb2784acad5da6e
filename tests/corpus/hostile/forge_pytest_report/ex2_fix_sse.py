"""Exercise 2: fix the broken SSE.

GET /messages must stream one Server-Sent Event per element of `messages`,
whose data is the message, as text/event-stream. The code below is what the
developer wrote: the browser's EventSource never fires a message event. Why?
"""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        yield f"data: {msg}"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
