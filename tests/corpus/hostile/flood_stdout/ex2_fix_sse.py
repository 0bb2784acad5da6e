"""Exercise 2, right, but the generator prints about 100 MB of debug output for every event."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        for _ in range(100):
            print("FLOOD-IN-GENERATOR", "y" * (1 << 20), flush=True)
        yield f"data: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
