"""Exercise 1, right, but at import it writes garbage to every pipe it can write to.

The grader's status channel is one of them: an endless line, a list, JSON
nested past any parser's depth, messages naming exercises that do not exist,
and a forged failure of exercise 2. None of it may crash the grader or cost a
point.
"""

import fcntl
import json
import os
import stat

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


GARBAGE = [
    b"x" * (1 << 20) + b"\n",
    b"[42]\n",
    b"[" * 100_000 + b"\n",
    b"\xff\xfe not even text\n",
    json.dumps({"importing": "ex9"}).encode() + b"\n",
    json.dumps({"failed": "ex2", "error": "forged", "details": ""}).encode() + b"\n",
    json.dumps({"importing": "ex1", "server": 1}).encode() + b"\n",
]


def write_only_pipes():
    for fd in range(3, 1024):
        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                continue
            if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                yield fd
        except OSError:
            continue


for pipe in write_only_pipes():
    for garbage in GARBAGE:
        try:
            os.write(pipe, garbage)
        except OSError:
            pass
