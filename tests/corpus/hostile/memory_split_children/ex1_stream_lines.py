"""Exercise 1, correct, but importing it holds 400 MiB split over four children.

Each child stays under a per-process memory limit; together they hold far more
than the sandbox may use. The endpoint is served only if all four managed it and
are all still alive holding it (an out-of-memory kill may take a child that had
already reported).
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
children = []
for _ in range(CHILDREN):
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        held = b"\xff" * EACH  # every page written, so every page is really held
        os.write(writer, b"+")
        time.sleep(3600)
        os._exit(0)
    children.append(pid)
os.close(writer)
held_by_children = 0
deadline = time.monotonic() + 3
while held_by_children < CHILDREN and time.monotonic() < deadline:
    if select.select([reader], [], [], 0.1)[0]:
        report = os.read(reader, CHILDREN)
        if not report:
            break
        held_by_children += len(report)
time.sleep(0.5)  # the kernel's out-of-memory killer acts within this
alive = sum(os.waitpid(pid, os.WNOHANG) == (0, 0) for pid in children)
if held_by_children < CHILDREN or alive < CHILDREN:
    raise RuntimeError(
        f"memory split across children stopped: {held_by_children} held theirs, "
        f"{alive} still alive"
    )


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")

