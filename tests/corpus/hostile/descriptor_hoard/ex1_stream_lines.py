"""Exercise 1, but the module opens files at import until the server has no descriptor left.

It keeps them open: the module imported after it cannot even be read, and
the server cannot accept a connection. That must cost exercise 1 alone.
"""

import os

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


hoard = []
try:
    while True:
        hoard.append(os.open(os.devnull, os.O_RDONLY))
except OSError:
    pass
