"""Loops over the lines forever (while True), so the response never ends."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    while True:
        for line in lines:
            yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
