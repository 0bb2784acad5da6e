"""Streams the lines but labels them application/json."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="application/json")
