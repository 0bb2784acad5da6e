"""Exercise 1, correct, but it lies to the grader through the pipe it reports on.

The only pipe left open in the jailed process is the grader's status channel.
Claiming that some other process is "the server" makes the grader kill that
process (and its process group) when it cleans up.
"""

import json
import os
import stat

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from target import VICTIM_PID

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")


if VICTIM_PID:
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, json.dumps({"server": VICTIM_PID}).encode() + b"\n")
        except OSError:
            pass
