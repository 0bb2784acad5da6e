"""Exercise 1, but the server sends the response head one byte a second, for ever.

The module patches uvicorn's response cycle: the status line and then an
endless header trickle out a byte at a time. A client whose timeout restarts
with every byte it reads never gives up.
"""

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from uvicorn.protocols.http import h11_impl

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")


_send = h11_impl.RequestResponseCycle.send


async def _trickling_send(self, message):
    if message["type"] == "http.response.start" and self.scope["path"] == "/lines":
        for byte in b"HTTP/1.1 200 OK\r\nx-slow: ":
            self.transport.write(bytes([byte]))
            await asyncio.sleep(1)
        while True:
            self.transport.write(b"a")
            await asyncio.sleep(1)
    await _send(self, message)


h11_impl.RequestResponseCycle.send = _trickling_send
