"""The server's status channel, read as the hostile input it is.

While a sandbox's server starts, the jail tells the grader, one JSON object per
line, which module it imports, which app's lifespan it starts, which module
failed and why, and that it is ready. The submission's code runs in that same
process and can write anything to the pipe, so the grader:

- reads at most MAX_LINE bytes per message and MAX_MESSAGES messages, however
  the bytes come (a longer line is dropped whole, without being kept);
- accepts only the messages the jail sends, field by field, with their types,
  lengths and the ids of the exercises this sandbox serves; anything else is
  counted and ignored, and nothing read there can raise in the grader;
- takes the stages (imports in the plan's order, then lifespans) only forward,
  each once, and uses them only to say which module was at work: the one
  deadline for the whole start is fixed on the grader's clock before the server
  runs, and no message moves it.
"""

from __future__ import annotations

import json
import os
import select
import time
from dataclasses import dataclass

from grader.exercises.base import Exercise

MAX_LINE = 64 * 1024  # the jail's longest message, its texts capped and JSON-escaped
MAX_MESSAGES = 64  # a start has two per module and one "ready"; the rest is noise
MAX_ERROR = 2000  # characters, as the jail caps them
MAX_DETAILS = 8000
READ_SIZE = 65536
IMPORTING = "importing"
STARTING = "starting"  # an app's lifespan startup
FAILED = "failed"
READY = "ready"


@dataclass(frozen=True)
class Status:
    """One valid message: its kind, the exercise it names (none for READY), and for FAILED why."""

    kind: str
    ex: Exercise | None = None
    error: str = ""
    details: str = ""


def _text(value: object, limit: int) -> str | None:
    """``value`` when it is a string of at most ``limit`` characters, else None."""
    return value if isinstance(value, str) and len(value) <= limit else None


def parse(line: bytes, exercises: tuple[Exercise, ...]) -> Status | None:
    """The status one line says, or None when it is not exactly a message the jail sends."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict):
        return None
    if message.keys() == {READY} and message[READY] is True:
        return Status(READY)
    named = {ex.id: ex for ex in exercises}
    keys = set(message)
    if keys in ({IMPORTING}, {STARTING}):
        (kind,) = keys
        ex = named.get(message[kind]) if isinstance(message[kind], str) else None
        return Status(kind, ex) if ex else None
    if keys == {FAILED, "error", "details"}:
        ex = named.get(message[FAILED]) if isinstance(message[FAILED], str) else None
        error = _text(message["error"], MAX_ERROR)
        details = _text(message["details"], MAX_DETAILS)
        if ex and error is not None and details is not None:
            return Status(FAILED, ex, error, details)
    return None


class StatusReader:
    """Reads a status pipe line by line, never holding more than one capped line."""

    def __init__(self, fd: int, exercises: tuple[Exercise, ...]) -> None:
        self.fd = fd
        self.exercises = exercises
        self.ignored = 0  # lines that were not valid messages
        self._buffer = bytearray()
        self._skipping = False  # inside a line longer than MAX_LINE, dropping it
        self._lines = 0
        self._ended = False

    @property
    def ended(self) -> bool:
        """True once the pipe reached its end: the server closed it."""
        return self._ended

    def next(self, deadline: float) -> Status | None:
        """The next valid message; None at end of pipe, after MAX_MESSAGES, or at the deadline."""
        while self._lines < MAX_MESSAGES:
            line = self._next_line(deadline)
            if line is None:
                return None
            self._lines += 1
            status = parse(line, self.exercises)
            if status is not None:
                return status
            self.ignored += 1
        return None

    def _next_line(self, deadline: float) -> bytes | None:
        """The next whole line of at most MAX_LINE bytes (others are dropped), or None."""
        while True:
            line = self._take_line()
            if line is not None:
                return line
            if self._ended or not self._read(deadline):
                return None

    def _take_line(self) -> bytes | None:
        """A line from the buffer when it holds one; drops what belongs to too long a line."""
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > MAX_LINE:
                self._buffer.clear()
                self._skipping = True
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        if self._skipping or len(line) > MAX_LINE:
            self._skipping = False
            self.ignored += 1
            return self._take_line()
        return line

    def _read(self, deadline: float) -> bool:
        """Read what the pipe holds, waiting until the deadline; False at its end or deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
            return False
        try:
            data = os.read(self.fd, READ_SIZE)
        except OSError:
            data = b""
        self._ended = not data
        self._buffer += data
        return bool(data)


@dataclass
class Startup:
    """How far the server's start went, as its valid messages say: stages only go forward.

    The stages are importing each planned module in order, then starting each
    served app's lifespan in order. A message naming a stage before or equal
    to the current one is ignored. The start has ``limit`` seconds from the
    moment the first import begins: the jail says so before any submitted code
    has run, so that message alone cannot be forged; until it comes, the limit
    runs from ``started``, when the server was forked.
    """

    exercises: tuple[Exercise, ...]
    started: float
    limit: float
    origin: float | None = None  # when the first import began, on the grader's clock
    stage: tuple[str, Exercise] | None = None
    since: float = 0.0  # when the current stage began
    stage_over: bool = False  # the current stage's module failed: nothing is at work now
    failed: tuple[Exercise, ...] = ()

    @property
    def deadline(self) -> float:
        """When the server must be ready."""
        return (self.started if self.origin is None else self.origin) + self.limit

    def _rank(self, kind: str, ex: Exercise) -> int:
        """The position of a stage in the order the jail goes through them."""
        return self.exercises.index(ex) + (len(self.exercises) if kind == STARTING else 0)

    def advance(self, status: Status, now: float) -> bool:
        """Take a message into account; False when it is out of order (and ignored)."""
        assert status.ex is not None
        if status.kind == FAILED:
            if self.stage != (IMPORTING, status.ex) or self.stage_over:
                return False
            self.stage_over = True
            self.failed += (status.ex,)
            return True
        if status.kind == STARTING and status.ex in self.failed:
            return False
        rank = self._rank(status.kind, status.ex)
        if self.stage is not None and rank <= self._rank(*self.stage):
            return False
        if self.stage is None and rank == 0:
            self.origin = now
        self.stage, self.since, self.stage_over = (status.kind, status.ex), now, False
        return True

    def at_work(self) -> tuple[str, Exercise] | None:
        """The stage under way (the first import before any message), or None between stages."""
        if self.stage is None:
            return (IMPORTING, self.exercises[0])
        return None if self.stage_over else self.stage

    def first_at_work(self) -> bool:
        """True when the stage under way is the first of the start: nothing ran before it."""
        return self.stage in (None, (IMPORTING, self.exercises[0])) or len(self.exercises) == 1

    def time_before(self) -> float:
        """How long the stages before the one under way took."""
        origin = self.started if self.origin is None else self.origin
        return 0.0 if self.stage is None else self.since - origin
