"""Reads the log in a task into a bounded queue: once the client left it fills the queue, then
waits on it for ever.
"""

import asyncio
from collections.abc import AsyncIterator

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

readers: set[asyncio.Task] = set()


@app.get("/logs")
async def follow_log(name: str = "app"):
    lines: asyncio.Queue[str] = asyncio.Queue(maxsize=8)  # never more than 8 lines in memory

    async def read_log() -> None:
        async for line in source.follow(name):
            await lines.put(line)

    reader = asyncio.create_task(read_log())
    readers.add(reader)
    reader.add_done_callback(readers.discard)

    async def log_events():
        while True:
            yield f"data: {await lines.get()}\n\n"

    return StreamingResponse(log_events(), media_type="text/event-stream")
