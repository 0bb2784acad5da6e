"""Exercise 1, correct, but importing it forks 200 processes that each sleep for an hour."""

import os
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

for _ in range(200):
    try:
        if os.fork() == 0:
            time.sleep(3600)
            os._exit(0)
    except OSError:
        break


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
