"""Exercise 1, but the server sends the response head one byte a second, for ever.

The module patches uvicorn's response cycle (both HTTP implementations, so
whichever the grader's server runs): the status line and then an endless header
trickle out a byte at a time. A client whose timeout restarts with every byte it
reads never gives up.
"""

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from uvicorn.protocols.http import h11_impl, httptools_impl

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")


def trickling(send):
    async def _trickling_send(self, message):
        if message["type"] == "http.response.start" and self.scope["path"] == "/lines":
            for byte in b"HTTP/1.1 200 OK\r\nx-slow: ":
                self.transport.write(bytes([byte]))
                await asyncio.sleep(1)
            while True:
                self.transport.write(b"a")
                await asyncio.sleep(1)
        await send(self, message)

    return _trickling_send


for impl in (h11_impl, httptools_impl):
    impl.RequestResponseCycle.send = trickling(impl.RequestResponseCycle.send)
