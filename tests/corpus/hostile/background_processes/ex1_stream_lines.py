"""Exercise 1, correct, but it leaves a `sleep 3600` running from import time."""

import subprocess

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

watcher = subprocess.Popen(["sleep", "3600"])


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
