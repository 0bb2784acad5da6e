"""Exercise 1, correct, but importing it holds 400 MiB split over four children.

Each child stays under a per-process memory limit; together they hold far more
than the sandbox may use. The endpoint is served only if all four managed it.
"""

import os
import select
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

CHILDREN = 4
EACH = 100 << 20

reader, writer = os.pipe()
for _ in range(CHILDREN):
    if os.fork() == 0:
        os.close(reader)
        held = b"\xff" * EACH  # every page written, so every page is really held
        os.write(writer, b"+")
        time.sleep(3600)
        os._exit(0)
os.close(writer)
held_by_children = 0
deadline = time.monotonic() + 3
while held_by_children < CHILDREN and time.monotonic() < deadline:
    if select.select([reader], [], [], 0.1)[0]:
        report = os.read(reader, CHILDREN)
        if not report:
            break
        held_by_children += len(report)
if held_by_children < CHILDREN:
    raise RuntimeError(f"memory split across children stopped: {held_by_children} held theirs")


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")

