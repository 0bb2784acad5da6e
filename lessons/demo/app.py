"""The live demo: the lesson's /stream, /events and /progress, plus a job page that streams.

Serve it from the repo root with:

    .venv/bin/python -m uvicorn lessons.demo.app:app --host 127.0.0.1 --port 8000

then open http://127.0.0.1:8000/ and press Start: a long-running job pushes its progress
over Server-Sent Events and the page's `EventSource` moves the bar as each event arrives.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.routing import APIRoute

from lessons.examples import events, progress, stream

PAGE = Path(__file__).with_name("static") / "index.html"
EXAMPLES = (stream, events, progress)
DEFAULT_STEPS = 10
DEFAULT_DELAY_S = 0.3
MAX_STEPS = 100
MAX_DELAY_S = 2.0
# no-cache: never replay a stored stream; X-Accel-Buffering: ask proxies such as nginx not
# to buffer, which would hold every event back until the job ends.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

app = FastAPI(title="Streaming and Server-Sent Events: live demo")


def include_example_routes(target: FastAPI, examples: Iterable[ModuleType]) -> None:
    """Serve each example app's own endpoints (GET /stream, /events, /progress) from `target`."""
    for example in examples:
        for route in example.app.routes:
            if isinstance(route, APIRoute):
                target.add_api_route(
                    route.path, route.endpoint, methods=sorted(route.methods), name=route.name
                )


def sse_message(data: dict[str, Any], event: str | None = None) -> str:
    """One SSE message: an optional `event:` line, a `data:` line, then the blank line."""
    lines = [f"event: {event}"] if event else []
    lines.append(f"data: {json.dumps(data)}")
    return "\n".join(lines) + "\n\n"


async def job_progress(steps: int, delay: float) -> AsyncIterator[str]:
    """A job of `steps` steps of `delay` seconds each: one message per step, then `done`."""
    for step in range(1, steps + 1):
        await asyncio.sleep(delay)  # stand-in for one step of real, awaitable work
        yield sse_message({"step": step, "steps": steps, "percent": round(100 * step / steps)})
    # A named event the page listens for so it can close the stream; without it EventSource
    # would reconnect when the response ends and run the job again. EventSource only
    # dispatches events that carry a data line, so `done` has one too.
    yield sse_message({"steps": steps}, event="done")


@app.get("/", include_in_schema=False)
def page() -> FileResponse:
    """The page that watches the job through EventSource (plain HTML and JS, no build step)."""
    return FileResponse(PAGE, media_type="text/html")


@app.get("/job/progress")
async def job(
    steps: Annotated[int, Query(ge=1, le=MAX_STEPS)] = DEFAULT_STEPS,
    delay: Annotated[float, Query(ge=0, le=MAX_DELAY_S, description="seconds per step")] = (
        DEFAULT_DELAY_S
    ),
) -> StreamingResponse:
    """Stream a job's progress as Server-Sent Events while it runs."""
    return StreamingResponse(
        job_progress(steps, delay), media_type="text/event-stream", headers=SSE_HEADERS
    )


include_example_routes(app, EXAMPLES)
