"""Exercise 1, but the endpoint streams a megabyte as one-byte chunks.

Every chunk the client records costs it memory and time: a grader that keeps
them all spends seconds of CPU and hundreds of megabytes, and saves them all.
"""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


async def byte_stream():
    for _ in range(1 << 20):
        yield "x"


@app.get("/lines")
async def stream_lines():
    return StreamingResponse(byte_stream(), media_type="text/plain")
