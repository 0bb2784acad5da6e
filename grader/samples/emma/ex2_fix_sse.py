from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


@app.get("/messages", response_class=EventSourceResponse)
async def stream_messages():
    for msg in messages:
        yield ServerSentEvent(data=msg)
