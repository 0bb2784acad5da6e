"""Exercise 1: stream a list of lines.

GET /lines must stream each element of `lines` followed by "\n", one chunk per
line, as text/plain. Check your work with `python -m grader exercises` or the
check cell of exercises.ipynb.
"""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    raise NotImplementedError("exercise 1: yield each element of `lines` followed by a newline")
    yield  # keeps this function a generator


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
