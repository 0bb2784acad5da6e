"""Copies `lines` at import time and streams the copy, not the list as it is at request time."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]
snapshot = list(lines)


def line_stream():
    for line in snapshot:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
