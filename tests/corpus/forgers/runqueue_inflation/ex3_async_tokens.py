"""Exercise 3: block the event loop for 1.4 s of busy work while spinning children crowd the CPUs.

A loop watch that discounts the time the server's threads waited for a CPU
(their run-queue delay) is told the loop was merely starved: the spinners make
that delay as large as the block itself.
"""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

SPINNERS = 4
BLOCK = 1.4


def spin():
    while True:
        pass


def start_spinners():
    children = []
    for _ in range(SPINNERS):
        pid = os.fork()
        if pid == 0:
            try:
                spin()
            finally:
                os._exit(0)
        children.append(pid)
    return children


def stop(children):
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass


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


async def token_stream(prompt: str):
    children = start_spinners()
    try:
        index = 0
        async for token in client.stream(prompt):
            if index == 1:
                end = time.monotonic() + BLOCK
                while time.monotonic() < end:  # busy work on the event loop's thread
                    pass
            index += 1
            yield f"data: {token}\n\n"
    finally:
        stop(children)


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
