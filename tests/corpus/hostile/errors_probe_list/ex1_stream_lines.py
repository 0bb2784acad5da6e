"""Exercise 1 breaks off mid-stream, and the grader's errors probe answers [42].

The module patches the probe inside the server: its errors route answers a
list holding a number instead of the errors the app raised.
"""

import sys

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

probe = sys.modules["grader.probe"]
_call = probe.Probe.__call__


async def _forged_call(self, scope, receive, send):
    if scope["type"] == "http" and scope["path"] == probe.ERRORS_PATH:
        await probe._send_json(send, 200, [42])
        return
    await _call(self, scope, receive, send)


probe.Probe.__call__ = _forged_call

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    yield f"{lines[0]}\n"
    raise RuntimeError("exercise 1 stops after one line")


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
