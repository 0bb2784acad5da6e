"""StreamingResponse wrapping a generator: GET /stream sends five plain-text chunks."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


def number_stream():
    for i in range(1, 6):
        yield f"chunk {i}\n"


@app.get("/stream")
def stream():
    return StreamingResponse(number_stream(), media_type="text/plain")
