"""Exercise 2, correct, but every request starts a classic double-fork daemon that hides."""

import os
import signal
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

messages = ["build started", "tests passed", "deploy done"]


def daemonize():
    """Fork, start a new session, fork again: the grandchild belongs to nobody."""
    if os.fork() > 0:
        return
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        time.sleep(3600)


def message_stream():
    for msg in messages:
        yield f"data: {msg}\n\n"


@app.get("/messages")
def stream_messages():
    daemonize()
    return StreamingResponse(message_stream(), media_type="text/event-stream")
