"""A one-line progress display for long batches, drawn on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from grader.batch import Job
from grader.results import SubmissionResult

BAR_WIDTH = 28


class ProgressBar:
    """Shows graded/total, passes, rate and time left; silent when disabled. A context manager."""

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.total = total
        self.enabled = enabled and total > 0
        self.stream = stream or sys.stderr
        self.done = 0
        self.passed = 0
        self.reused = 0
        self.started = time.monotonic()

    def __enter__(self) -> ProgressBar:
        self._draw("")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def update(self, job: Job, result: SubmissionResult, reused: bool) -> None:
        """Count one finished submission and redraw."""
        self.done += 1
        self.passed += result.passed
        self.reused += reused
        self._draw(job.label)

    def _draw(self, label: str) -> None:
        """Redraw the line in place."""
        if not self.enabled:
            return
        filled = BAR_WIDTH * self.done // self.total
        bar = "█" * filled + "·" * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - self.started
        graded = self.done - self.reused
        left = (self.total - self.done) * elapsed / graded if graded else 0.0
        line = (
            f"\r{bar} {self.done}/{self.total} graded, {self.passed} all-pass"
            f"{f', {self.reused} saved' if self.reused else ''}, ~{left:.0f} s left  {label[-30:]}"
        )
        self.stream.write(line.ljust(100)[:120])
        self.stream.flush()
