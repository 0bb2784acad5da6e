"""Joins the lines with "\\n" and yields once: no newline after the last line, one chunk."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    yield "\n".join(lines)


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
