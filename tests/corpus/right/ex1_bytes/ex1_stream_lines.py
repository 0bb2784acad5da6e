"""Yields each line encoded as UTF-8 bytes, with an explicit charset in the media type."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in lines:
        yield (line + "\n").encode("utf-8")


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain; charset=utf-8")
