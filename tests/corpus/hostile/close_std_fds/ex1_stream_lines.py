"""Exercise 1, correct, but importing it closes file descriptors 1 and 2 under everyone's feet."""

import os

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

os.close(1)
os.close(2)


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
