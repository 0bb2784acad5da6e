"""Exercise 4, reference solution: the generator reads the log itself, so it stops with the stream.

When the client disconnects, the server cancels the request's generator; the
log is read nowhere else, so the reading stops right there, and `aclosing`
closes the log's iterator at once instead of leaving it to the garbage collector.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


class DemoLogs:
    """Stands in for a log store: `follow(name)` yields each new line of a log as it is written."""

    async def follow(self, name: str) -> AsyncIterator[str]:
        number = 0
        while True:
            await asyncio.sleep(0.5)  # waiting for the next line to be written
            number += 1
            yield f"{name}: line {number}"


source = DemoLogs()
app = FastAPI()


async def log_events(name: str):
    async with aclosing(source.follow(name)) as lines:
        async for line in lines:
            yield f"data: {line}\n\n"


@app.get("/logs")
async def follow_log(name: str = "app"):
    return StreamingResponse(log_events(name), media_type="text/event-stream")
