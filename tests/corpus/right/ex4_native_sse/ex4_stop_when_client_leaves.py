"""FastAPI's own SSE: the path operation yields a ServerSentEvent per line, its raw data the
line.
"""

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent


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


@app.get("/logs", response_class=EventSourceResponse)
async def follow_log(name: str = "app") -> AsyncIterator[ServerSentEvent]:
    async for line in source.follow(name):
        yield ServerSentEvent(raw_data=line)
