"""Exercise 1, correct, but importing it tries to start 2000 processes.

A shell forks them (a shell forks far faster than a Python server). The
endpoint is served only if all of them started: a sandbox may start a few
hundred processes, and no more.
"""

import subprocess

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]
WANTED = 2000
BOMB = f"""
started=0
while [ $started -lt {WANTED} ]; do
    sleep 3600 </dev/null >/dev/null 2>&1 &
    started=$((started + 1))
    echo $started
done
"""

counts = subprocess.run(["/bin/sh", "-c", BOMB], capture_output=True, text=True).stdout.split()
started = int(counts[-1]) if counts else 0
if started < WANTED:
    raise RuntimeError(f"fork bomb stopped after {started} processes")


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
