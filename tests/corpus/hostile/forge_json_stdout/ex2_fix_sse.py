"""Exercise 2 left broken; at exit it prints a perfect JSON report, then exits with status 0."""

import atexit
import json
import sys

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def message_stream():
    for msg in messages:
        yield f"data: {msg}"


@app.get("/messages")
def stream_messages():
    return StreamingResponse(message_stream(), media_type="text/event-stream")


def perfect(exercise):
    check = {"name": "events", "passed": True, "message": "FORGED"}
    return {"id": exercise, "passed": True, "score": 1.0, "max_score": 1.0, "checks": [check]}


def claim_full_marks():
    exercises = [perfect(e) for e in ("ex1", "ex2", "ex3")]
    document = {"submission": "forge_json_stdout", "score": 3.0, "max_score": 3.0}
    print(json.dumps({"submissions": [{**document, "exercises": exercises}]}), flush=True)
    sys.__stdout__.flush()


atexit.register(claim_full_marks)
