"""Tails the lines forever, one every 0.2 s, like `tail -f`: the response never ends."""

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


async def line_stream():
    while True:
        for line in lines:
            yield f"{line}\n"
            await asyncio.sleep(0.2)


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
