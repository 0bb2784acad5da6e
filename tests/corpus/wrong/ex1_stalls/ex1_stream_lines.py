"""Sends the first line, then waits forever (await asyncio.sleep(3600)) before the rest."""

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


async def line_stream():
    for line in lines:
        yield f"{line}\n"
        await asyncio.sleep(3600)


@app.get("/lines")
async def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
