"""One reader per log, shared by every client of that log: it reads on after the last client
left.
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

followers: dict[str, list[asyncio.Queue[str]]] = {}
readers: dict[str, asyncio.Task] = {}


async def read_log(name: str) -> None:
    async for line in source.follow(name):
        for lines in followers[name]:
            lines.put_nowait(line)


@app.get("/logs")
async def follow_log(name: str = "app"):
    lines: asyncio.Queue[str] = asyncio.Queue()
    followers.setdefault(name, []).append(lines)
    if name not in readers:
        readers[name] = asyncio.create_task(read_log(name))

    async def log_events():
        try:
            while True:
                yield f"data: {await lines.get()}\n\n"
        finally:
            followers[name].remove(lines)

    return StreamingResponse(log_events(), media_type="text/event-stream")
