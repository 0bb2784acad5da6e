"""Exercise 1, but the module prints about 100 MB of debug output while importing."""

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


for i in range(1_000_000):
    print(f"FLOOD-AT-IMPORT {i:>10} " + "x" * 80)
