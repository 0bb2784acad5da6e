"""Streams the lines from an async def generator."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


async def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
async def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
