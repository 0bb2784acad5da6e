"""What the probe records of an app's exceptions, served by a real uvicorn on loopback.

FastAPI's native SSE streams through a task group: an exception in the endpoint
arrives wrapped in an ExceptionGroup, and a client that hangs up mid-stream makes
it raise one too. The probe names the exception inside the group, and keeps
nothing an app raised after its client left: that reached no one, and the
grader hangs up on purpose (exercise 5 reconnects, exercise 3 leaves early).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent

from grader.probe import Probe
from tests.grader.helpers import line_of

HANG_UPS = 20  # FastAPI raises on a hang-up only now and then: hang up often enough to see it
SETTLE = 2.0  # seconds the server gets to finish the streams a client left
POLL = 0.02

app = FastAPI()
finished: list[str] = []


@app.get("/slow", response_class=EventSourceResponse)
async def slow() -> AsyncIterator[ServerSentEvent]:
    try:
        for number in range(5):
            yield ServerSentEvent(raw_data=f"event {number}", id=str(number))
    finally:
        finished.append("slow")


@app.get("/broken", response_class=EventSourceResponse)
async def broken() -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(raw_data="first")
    raise ValueError("no second event")


@pytest.fixture
def served() -> Iterator[tuple[Probe, str]]:
    """The app behind a probe, served by uvicorn on a loopback port; the probe and its URL."""
    probe = Probe(app, Path(__file__).name)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(probe, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(POLL)
    yield probe, f"http://127.0.0.1:{listener.getsockname()[1]}"
    server.should_exit = True
    thread.join()
    listener.close()


def test_an_exception_in_the_endpoint_is_named_not_its_group(served) -> None:
    probe, url = served
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", f"{url}/broken") as response:
        response.read()  # the stream breaks off: the endpoint raised
    deadline = time.monotonic() + SETTLE
    while not probe.errors and time.monotonic() < deadline:
        time.sleep(POLL)
    [error] = probe.errors
    assert error["summary"] == "raised ValueError: no second event"
    assert error["file"] == Path(__file__).name
    assert error["line"] == line_of(Path(__file__).read_text(encoding="utf-8"), "raise ValueError")


def test_nothing_raised_after_the_client_hung_up_is_recorded(served) -> None:
    probe, url = served
    finished.clear()
    with httpx.Client() as client:
        for _ in range(HANG_UPS):
            with client.stream("GET", f"{url}/slow") as response:
                next(response.iter_raw())
    deadline = time.monotonic() + SETTLE
    while len(finished) < HANG_UPS and time.monotonic() < deadline:
        time.sleep(POLL)
    time.sleep(0.2)  # what a stream raises comes right after its generator closed
    assert len(finished) == HANG_UPS
    assert probe.errors == [], len(probe.errors)
