"""Exercise 1, but importing it raises an exception whose message is 20 MB long."""

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


raise ValueError("HUGE-MESSAGE " * ((20 << 20) // 13))
