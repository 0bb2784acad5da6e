"""Returns a PlainTextResponse: the right body, sent all at once instead of streamed."""

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


@app.get("/lines")
def stream_lines():
    return PlainTextResponse("".join(f"{line}\n" for line in lines))
