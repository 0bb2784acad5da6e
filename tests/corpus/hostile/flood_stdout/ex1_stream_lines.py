"""Exercise 1, right, but the module prints 196 MB of debug output while importing.

An exercise fails for what its endpoint does: the report keeps the first and
last few KiB of the output, and the module is graded as any other.
"""

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


for i in range(196_000):
    print(f"FLOOD-AT-IMPORT {i:>10} " + "x" * 973)
