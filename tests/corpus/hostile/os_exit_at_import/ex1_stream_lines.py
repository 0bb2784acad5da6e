"""Exercise 1, but the process ends at import without running any cleanup."""

import os

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")


# sys.exit can be caught; os._exit cannot
os._exit(0)
