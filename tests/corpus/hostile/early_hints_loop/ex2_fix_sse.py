"""Exercise 2, but the server answers with a 103 Early Hints response every half second, for ever.

A client skips informational responses while it waits for the final one; one
whose timeout restarts with every byte it reads waits for good. Both of uvicorn's
HTTP implementations are patched, so whichever the grader's server runs.
"""

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from uvicorn.protocols.http import h11_impl, httptools_impl

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        yield f"data: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")


HINT = b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n"


def hinting(send):
    async def _hinting_send(self, message):
        if message["type"] == "http.response.start" and self.scope["path"] == "/messages":
            while True:
                self.transport.write(HINT)
                await asyncio.sleep(0.5)
        await send(self, message)

    return _hinting_send


for impl in (h11_impl, httptools_impl):
    impl.RequestResponseCycle.send = hinting(impl.RequestResponseCycle.send)
