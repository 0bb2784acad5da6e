"""Watching a submission's event loop from the outside while a stream is in flight.

A thread keeps asking the grader's ping route, which is answered on the same
event loop as the stream. A reply that takes long means the loop was blocked:
something in the app ran without awaiting. Replies are measured against a
baseline taken just before the stream, so a machine that is merely busy does
not make a correct stream look like a blocking one.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable

from grader.probe import PING_PATH
from grader.transcript import StreamingClient

SLOW_REPLY = (
    0.02  # seconds; a ping reply slower than this (and than the baseline) means a busy loop
)
BASELINE_FACTOR = 3  # ...or slower than this many times the baseline reply, whichever is more
BASELINE_PINGS = 3
PING_GAP = 0.01  # pause between pings, so pinging does not load the loop (or the machine)


class LoopWatch:
    """Pings the app on its own event loop until ``until()`` is true; a context manager."""

    def __init__(self, client: StreamingClient, until: Callable[[], bool]) -> None:
        self.client = client
        self.until = until
        self.replies: list[float] = []
        self.baseline = 0.0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grader-loopwatch", daemon=True)

    def __enter__(self) -> LoopWatch:
        self.baseline = self._measure_baseline()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _ping(self) -> float | None:
        """Seconds one ping took, or None when it failed."""
        sent = time.monotonic()
        try:
            self.client.get(PING_PATH)
        except Exception:
            self.failures += 1
            return None
        return time.monotonic() - sent

    def _measure_baseline(self) -> float:
        """The median ping reply while the loop is idle, before the stream starts."""
        replies = [r for r in (self._ping() for _ in range(BASELINE_PINGS)) if r is not None]
        return statistics.median(replies) if replies else 0.0

    def slow(self) -> float:
        """A reply slower than this counts as time the loop was blocked."""
        return max(SLOW_REPLY, BASELINE_FACTOR * self.baseline)

    def _run(self) -> None:
        """Ping until told to stop or the stream is over."""
        while not self._stop.is_set() and not self.until():
            reply = self._ping()
            if reply is None:
                return
            self.replies.append(reply)
            self._stop.wait(PING_GAP)

    def blocked_seconds(self) -> float:
        """Total time pings waited on a busy loop, beyond the baseline."""
        return sum(r - self.baseline for r in self.replies if r > self.slow())

    def longest(self) -> float:
        """The slowest ping reply, in seconds."""
        return max(self.replies, default=0.0)

    def summary(self) -> str:
        """Ping statistics for the instructor."""
        return (
            f"{len(self.replies)} pings, baseline {self.baseline * 1000:.1f} ms, "
            f"{sum(r > self.slow() for r in self.replies)} slower than "
            f"{self.slow() * 1000:.0f} ms, "
            f"longest {self.longest() * 1000:.1f} ms, "
            f"blocked {self.blocked_seconds():.3f} s, {self.failures} failed"
        )
