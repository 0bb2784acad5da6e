"""Exercise 3 left as the stub; instead, write a perfect JSON report into the grader's own stdout.

The grader's processes are this process's ancestors: /proc names them and, when
the permissions allow it, opens their standard output for anyone.
"""

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


class FakeAIClient:
    """Stands in for an AI model client that streams its answer token by token."""

    def __init__(self, tokens: tuple[str, ...] = ("Hello", ",", " world", "!")) -> None:
        self.tokens = tokens

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        for token in self.tokens:
            await asyncio.sleep(0.05)
            yield token


client = FakeAIClient()
app = FastAPI()


def token_stream(prompt: str):
    raise NotImplementedError("exercise 3: should this generator be def or async def?")
    yield  # keeps this function a generator


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")


def grader_ancestors():
    """The pids of the ancestors of this process that run the grader."""
    pid = int(os.readlink("/proc/self"))
    while True:
        status = Path(f"/proc/{pid}/status").read_text()
        pid = int(re.search(r"^PPid:\s*(\d+)", status, re.MULTILINE)[1])
        if pid <= 1:
            return
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        if "grader" in argv or any(arg.endswith("sse-grader") for arg in argv):
            yield pid


def perfect(exercise):
    check = {"name": "streams", "passed": True, "message": "FORGED"}
    return {"id": exercise, "passed": True, "score": 1.0, "max_score": 1.0, "checks": [check]}


exercises = [perfect(e) for e in ("ex1", "ex2", "ex3")]
forged = {"submission": "forge_json_stdout", "score": 3.0, "max_score": 3.0}
report = json.dumps({"submissions": [{**forged, "exercises": exercises}]}, indent=2) + "\n"
try:
    for ancestor in grader_ancestors():
        try:
            with open(f"/proc/{ancestor}/fd/1", "w") as stdout:
                stdout.write(report)
        except OSError:
            pass
except (OSError, TypeError, ValueError):
    pass
