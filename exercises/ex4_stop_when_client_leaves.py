"""Exercise 4 (challenge): stop when the client leaves.

GET /logs?name=NAME follows the log NAME like `tail -f`: it streams one
Server-Sent Event per line, its data exactly the line, as text/event-stream,
for as long as the log grows. The lines come from `source.follow(name)`, an
async iterator that waits for each new line of the log.

The endpoint below streams the right events, but it reads the log in a task of
its own, and that task never learns that the client left: close the page and
the server goes on reading the log, for every visitor who ever came.

TODO: make the reading stop as soon as the client disconnects.
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
readers: set[asyncio.Task] = set()  # keeps each reading task referenced while it runs


@app.get("/logs")
async def follow_log(name: str = "app"):
    lines: asyncio.Queue[str] = asyncio.Queue()

    async def read_log() -> None:
        async for line in source.follow(name):
            await lines.put(line)

    reader = asyncio.create_task(read_log())
    readers.add(reader)
    reader.add_done_callback(readers.discard)

    async def log_events():
        while True:
            line = await lines.get()
            yield f"data: {line}\n\n"

    return StreamingResponse(log_events(), media_type="text/event-stream")
