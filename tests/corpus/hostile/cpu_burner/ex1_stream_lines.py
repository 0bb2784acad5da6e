"""Exercise 1, correct if slow, but importing it starts four processes that burn CPU.

They live as long as this exercise's server: while /lines takes its time, the
rest of the machine (the grading of the other exercises, or of classmates
graded at the same moment) fights them for the processors.
"""

import os
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

for _ in range(4):
    if os.fork() == 0:
        while True:
            pass


def line_stream():
    for line in lines:
        time.sleep(0.3)
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
