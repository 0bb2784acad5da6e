"""Exercise 1 fails mid-stream, and the grader's errors probe answers [42] instead of a list of errors.

The probe that reports the exceptions an app raised runs in this process, so
this module can replace its answer: a JSON list of a number where the grader
expects objects.
"""

import sys

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

BODY = b"[42]"
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"4")]

probe = sys.modules.get("grader.probe")
if probe is not None and hasattr(probe, "Probe"):
    ERRORS = getattr(probe, "ERRORS_PATH", "/__grader__/errors")
    original = probe.Probe.__call__

    async def forged(self, scope, receive, send):
        if scope.get("type") == "http" and scope.get("path") == ERRORS:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await send({"type": "http.response.body", "body": BODY})
            return
        await original(self, scope, receive, send)

    probe.Probe.__call__ = forged

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in lines[:1]:
        yield f"{line}\n"
    raise RuntimeError("exercise 1 gives up after the first line")


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
