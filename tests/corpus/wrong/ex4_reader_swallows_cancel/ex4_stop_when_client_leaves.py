"""Cancels its reading task when the stream ends, but the task takes the cancellation for a
hiccup and follows the log again.
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


@app.get("/logs")
async def follow_log(name: str = "app"):
    lines: asyncio.Queue[str] = asyncio.Queue()

    async def read_log() -> None:
        while True:
            try:
                async for line in source.follow(name):
                    await lines.put(line)
            except (asyncio.CancelledError, ConnectionError):
                continue  # the reader was interrupted: follow the log again

    async def log_events():
        reader = asyncio.create_task(read_log())
        try:
            while True:
                yield f"data: {await lines.get()}\n\n"
        finally:
            reader.cancel()

    return StreamingResponse(log_events(), media_type="text/event-stream")
