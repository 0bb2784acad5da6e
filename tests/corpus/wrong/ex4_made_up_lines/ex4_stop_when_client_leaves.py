"""Never reads the log: streams lines of its own, numbered, for ever."""

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


async def log_events(name: str):
    number = 0
    while True:
        await asyncio.sleep(0.01)
        number += 1
        yield f"data: {name}: line {number}\n\n"


@app.get("/logs")
async def follow_log(name: str = "app"):
    return StreamingResponse(log_events(name), media_type="text/event-stream")
