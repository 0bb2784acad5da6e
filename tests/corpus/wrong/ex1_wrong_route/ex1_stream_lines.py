"""Declares the endpoint at /line instead of /lines."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/line")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
