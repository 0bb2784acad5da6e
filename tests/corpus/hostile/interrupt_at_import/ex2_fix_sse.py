"""Exercise 2, but importing it raises a BaseException subclass no `except Exception` catches."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        yield f"data: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")


class GradeMeLater(BaseException):
    """Slips past every `except Exception:` in the grader."""


raise GradeMeLater("not today")
