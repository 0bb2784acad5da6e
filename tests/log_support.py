"""A log store that records how it is read, and a client that leaves a log stream early.

Exercise 4's tests put ``RecordingLogs`` in place of a module's ``source`` and
read its ``/logs`` stream through TestClient, to see whether the module goes
on reading the log after the client left.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from grader.sse import EventStreamParser

LINE_GAP = 0.01  # how often the recording log grows


class RecordingLogs:
    """A log store that grows by a numbered line every LINE_GAP and notes its reading."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.read = 0
        self.closed = threading.Event()

    async def follow(self, name: str) -> AsyncIterator[str]:
        """Each new line of the log ``name``; the reading is counted, the closing noted."""
        self.names.append(name)
        try:
            while True:
                await asyncio.sleep(LINE_GAP)
                self.read += 1
                yield f"{name} #{self.read} déjà ✓"
        finally:
            self.closed.set()


def take_events(client: TestClient, name: str, count: int) -> tuple[str, list[str]]:
    """The Content-Type and the data of the first ``count`` events; then the client leaves."""
    parser, found = EventStreamParser(), []
    with client.stream("GET", "/logs", params={"name": name}) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            found += [event.data for event in parser.feed(chunk)]
            if len(found) >= count:
                break
        return response.headers["content-type"], found


def record_logs(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> RecordingLogs:
    """A recording log store in place of ``module``'s own ``source``, for one test."""
    recording = RecordingLogs()
    monkeypatch.setattr(module, "source", recording)
    return recording
