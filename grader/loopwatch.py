"""Watching a submission's event loop from the outside while a stream is in flight.

A thread keeps asking the grader's ping route, which is answered on the same
event loop as the stream. A reply that takes long means the loop was blocked:
something in the app ran without awaiting. A machine that is merely busy must
not make a correct stream look like a blocking one, so from each reply's time
the watch takes away what the kernel counts as waiting for a CPU, by the
pinging thread and by the loop's thread (their run-queue delay in
/proc/.../schedstat). Where the loop thread cannot be found, replies are
measured against a baseline taken just before the stream instead.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.probe import PING_PATH
from grader.transcript import StreamingClient

THREAD_SCHEDSTAT = "/proc/thread-self/schedstat"
# A ping reply slower than this, and than BASELINE_FACTOR times the baseline reply,
# means the loop was busy.
SLOW_REPLY = 0.02
BASELINE_FACTOR = 3
BASELINE_PINGS = 3  # only where the loop thread's scheduler statistics cannot be read
# Pause between pings, so pinging does not load the loop (or the machine). While the
# loop answers promptly the pause doubles, up to MAX_PING_GAP: a block longer than
# that still catches a ping. A slow reply brings it back to PING_GAP.
PING_GAP = 0.01
MAX_PING_GAP = 0.08


class LoopWatch:
    """Pings the app on its own event loop until ``until()`` is true; a context manager."""

    def __init__(
        self,
        client: StreamingClient,
        until: Callable[[], bool],
        *,
        server_pid: int | None = None,
        same_process: bool = False,
    ) -> None:
        self.client = client
        self.until = until
        self.waits = [THREAD_SCHEDSTAT] + ([f"/proc/{server_pid}/schedstat"] if server_pid else [])
        # In-process, the loop thread is ours: its id comes with the first ping's reply.
        self.learn_loop_thread = same_process and not server_pid
        self.replies: list[float] = []
        self.baseline = 0.0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grader-loopwatch", daemon=True)

    def __enter__(self) -> LoopWatch:
        if len(self.waits) == 1 and not self.learn_loop_thread:
            self.baseline = self._measure_baseline()  # no scheduler statistics for the loop
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _ping(self) -> float | None:
        """Seconds one ping took, less time spent waiting for a CPU; None when it failed."""
        waited = self._runqueue_wait()
        sent = time.monotonic()
        try:
            reply = self.client.get(PING_PATH)
        except Exception:
            self.failures += 1
            return None
        elapsed = time.monotonic() - sent
        if self.learn_loop_thread:
            self._watch_loop_thread(reply)
        return max(0.0, elapsed - (self._runqueue_wait() - waited))

    def _watch_loop_thread(self, reply: Any) -> None:
        """Add this process's loop thread, named by a ping reply, to the watched threads."""
        self.learn_loop_thread = False
        with contextlib.suppress(ValueError, KeyError, TypeError):
            path = f"/proc/self/task/{int(reply.json()['thread'])}/schedstat"
            if Path(path).exists():
                self.waits.append(path)

    def _runqueue_wait(self) -> float:
        """Seconds the watched threads have spent runnable but not running, so far."""
        return sum(_schedstat_wait(path) for path in self.waits)

    def _measure_baseline(self) -> float:
        """The median ping reply while the loop is idle, before the stream starts."""
        replies = [r for r in (self._ping() for _ in range(BASELINE_PINGS)) if r is not None]
        return statistics.median(replies) if replies else 0.0

    def slow(self) -> float:
        """A reply slower than this counts as time the loop was blocked."""
        return max(SLOW_REPLY, BASELINE_FACTOR * self.baseline)

    def _run(self) -> None:
        """Ping until told to stop or the stream is over, less often while the loop is free."""
        gap = PING_GAP
        while not self._stop.is_set() and not self.until():
            reply = self._ping()
            if reply is None:
                return
            self.replies.append(reply)
            gap = PING_GAP if reply > self.slow() else min(2 * gap, MAX_PING_GAP)
            self._stop.wait(gap)

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


def _schedstat_wait(path: str) -> float:
    """The run-queue delay in a schedstat file, in seconds; 0 where the kernel does not say."""
    try:
        return int(Path(path).read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0
