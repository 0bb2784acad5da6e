"""Watching a submission's event loop from the outside while a stream is in flight.

A thread keeps asking the grader's ping route, which is answered on the same
event loop as the stream. A reply that takes long means the loop was blocked:
something in the app ran without awaiting. Only time the loop spent unable to
answer counts, so a fast, correct stream cannot be mistaken for a blocking one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from grader.probe import PING_PATH
from grader.transcript import StreamingClient

SLOW_REPLY = 0.02  # seconds; a ping reply slower than this means the loop was busy
PING_GAP = 0.002  # pause between pings, so pinging does not load the loop itself


class LoopWatch:
    """Pings the app on its own event loop until ``until()`` is true; a context manager."""

    def __init__(self, client: StreamingClient, until: Callable[[], bool]) -> None:
        self.client = client
        self.until = until
        self.replies: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grader-loopwatch", daemon=True)

    def __enter__(self) -> LoopWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        """Ping until told to stop or the stream is over."""
        while not self._stop.is_set() and not self.until():
            sent = time.monotonic()
            try:
                self.client.get(PING_PATH)
            except Exception:
                self.failures += 1
                return
            self.replies.append(time.monotonic() - sent)
            self._stop.wait(PING_GAP)

    def blocked_seconds(self) -> float:
        """Total time pings waited on a busy loop."""
        return sum(r for r in self.replies if r > SLOW_REPLY)

    def longest(self) -> float:
        """The slowest ping reply, in seconds."""
        return max(self.replies, default=0.0)

    def summary(self) -> str:
        """Ping statistics for the instructor."""
        return (
            f"{len(self.replies)} pings, {sum(r > SLOW_REPLY for r in self.replies)} slower than "
            f"{SLOW_REPLY * 1000:.0f} ms, longest {self.longest() * 1000:.1f} ms, "
            f"blocked {self.blocked_seconds():.3f} s, {self.failures} failed"
        )
