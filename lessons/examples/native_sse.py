"""FastAPI's native SSE: path operations that yield, with response_class=EventSourceResponse."""

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent

app = FastAPI()


@app.get("/news", response_class=EventSourceResponse)
async def news() -> AsyncIterator[object]:
    yield ServerSentEvent(data="hello")  # JSON-encoded: the string keeps its quotes
    yield ServerSentEvent(raw_data="hello")  # sent as is
    yield {"headline": "SSE is built in", "since": "0.135"}  # plain objects become JSON data
    yield ServerSentEvent(data=[1, 2], event="score", id="7", retry=3000, comment="all fields")


QUIET_SECONDS = 1.0  # how long /quiet says nothing between its two events


@app.get("/quiet", response_class=EventSourceResponse)
async def quiet() -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(data="first")
    await asyncio.sleep(QUIET_SECONDS)
    yield ServerSentEvent(data="second")
