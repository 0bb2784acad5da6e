"""Exercise 2, right, but its app's lifespan startup waits for ever.

The server starts every app's lifespan after importing every module: the wait
must cost exercise 2, not the module imported last.
"""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


@asynccontextmanager
async def lifespan(_app):
    await asyncio.Event().wait()
    yield


app = FastAPI(lifespan=lifespan)

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        yield f"data: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")
