"""Exercise 1 breaks off mid-stream, and the grader's errors probe answers [42].

The module patches the probe's JSON writer inside the server: where the probe
sends its list of errors, it sends a list holding a number instead.
"""

import sys

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

probe = sys.modules["grader.probe"]
_send_json = probe._send_json


async def _forged_send_json(send, status, payload):
    await _send_json(send, status, [42] if isinstance(payload, list) else payload)


probe._send_json = _forged_send_json

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    yield f"{lines[0]}\n"
    raise RuntimeError("exercise 1 stops after one line")


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
