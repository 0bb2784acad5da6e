"""Streams a hard-coded copy of the example list instead of reading `lines`."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in ["alpha", "beta", "gamma"]:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
