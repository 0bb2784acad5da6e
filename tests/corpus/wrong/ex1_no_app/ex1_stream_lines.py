"""Names the application `api` instead of `app`."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

api = FastAPI()

lines = ["alpha", "beta", "gamma"]


def line_stream():
    for line in lines:
        yield f"{line}\n"


@api.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
