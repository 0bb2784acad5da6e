"""Its reading task asks whether the client left only every 40 lines, to save the asking."""

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
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
CHECK_EVERY = 40  # lines between two looks at the connection


@app.get("/logs")
async def follow_log(request: Request, name: str = "app"):
    lines: asyncio.Queue[str] = asyncio.Queue()

    async def read_log() -> None:
        read = 0
        async for line in source.follow(name):
            await lines.put(line)
            read += 1
            if read % CHECK_EVERY == 0 and await request.is_disconnected():
                return

    reader = asyncio.create_task(read_log())
    readers.add(reader)
    reader.add_done_callback(readers.discard)

    async def log_events():
        while True:
            yield f"data: {await lines.get()}\n\n"

    return StreamingResponse(log_events(), media_type="text/event-stream")
