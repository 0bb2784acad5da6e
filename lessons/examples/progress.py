"""An async generator: GET /progress awaits between updates and streams them as SSE."""

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


async def progress_stream():
    for pct in (25, 50, 75, 100):
        await asyncio.sleep(0)  # stand-in for awaitable work
        yield f"data: {pct}%\n\n"


@app.get("/progress")
async def progress():
    return StreamingResponse(progress_stream(), media_type="text/event-stream")
