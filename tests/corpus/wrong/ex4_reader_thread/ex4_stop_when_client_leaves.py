"""Reads the log in a thread of its own and streams from a sync generator: nothing stops the
thread.
"""

import asyncio
import queue
import threading
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
def follow_log(name: str = "app"):
    lines: queue.Queue[str] = queue.Queue()

    async def read_log() -> None:
        async for line in source.follow(name):
            lines.put(line)

    threading.Thread(target=asyncio.run, args=(read_log(),), daemon=True).start()

    def log_events():
        while True:
            yield f"data: {lines.get()}\n\n"

    return StreamingResponse(log_events(), media_type="text/event-stream")
