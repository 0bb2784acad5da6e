"""Exercise 2, correct, but its generator sends every message out with urllib first."""

import urllib.parse
import urllib.request

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from target import HOST, PORT

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        try:
            query = urllib.parse.urlencode({"msg": msg})
            urllib.request.urlopen(f"http://{HOST}:{PORT}/collect?{query}", timeout=0.5)
        except OSError:
            pass
        yield f"data: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
