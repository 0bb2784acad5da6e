"""What an exercise's checks talk to (``Target``), and the harness every exercise is graded in.

The same checks grade a submission in-process (Starlette's TestClient, whose
transport calls the app in this process) and in a sandboxed server process (an
httpx2 client on a Unix socket): they only see what an HTTP client sees, the
probe's routes included, plus the grader's own feed and the source text the
grader read before the submission ran. The two ways differ only in the client.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from grader import checks, fixtures
from grader.probe import ERRORS_PATH, INPUTS_HEADER, STREAMS_PATH, encode_inputs
from grader.probe_reply import MAX_ERRORS_REPLY, fetch_json, server_errors
from grader.results import Check, ExerciseResult
from grader.settings import EXERCISE_BUDGET, REPLY_TIMEOUT
from grader.sourcecheck import Streamed, parse_streamed
from grader.transcript import StreamingClient, StreamReader, Transcript

if TYPE_CHECKING:
    from grader.exercises.base import Exercise
    from grader.feed import FeedServer

MAX_STREAMS_REPLY = 64 * 1024


class MemoryGauge(Protocol):
    """The memory a sandboxed server holds, measured from outside it, in bytes."""

    def reset_peak(self) -> None:
        """Start measuring the peak afresh from now."""

    def peak(self) -> int:
        """The most the server held since the last reset."""

    def current(self) -> int:
        """What the server holds now."""


@dataclass(frozen=True)
class Target:
    """What the checks talk to: a client for the submission's app, and what the grader knows.

    ``source`` is the exercise's source text, read before anything ran; ``feed``
    the grader's feed, for an exercise served with one; ``memory`` the sandbox's
    memory from outside, None where the machine gives no such measure (and
    in-process).
    """

    client: StreamingClient
    timeout: float
    explain: Callable[[], str | None] = lambda: None
    seed: fixtures.Seed = field(default_factory=fixtures.Seed)  # the submission's inputs
    server_pid: int | None = None  # the server process, whose threads /proc shows
    ends_at: float = math.inf  # the exercise's own deadline, set when its grading starts
    source: str = ""
    feed: FeedServer | None = None
    memory: MemoryGauge | None = None

    def deadline(self) -> float:
        """The monotonic time by which one response must be over.

        Each response gets ``timeout``, and no response outlasts the exercise's deadline,
        so however many requests an exercise makes, it is over within EXERCISE_BUDGET
        timeouts whatever the submission sends.
        """
        return min(time.monotonic() + self.timeout, self.ends_at)

    def hears_hang_ups(self) -> bool:
        """True when the client's transport tells the app that the client left mid-stream.

        A client says otherwise with ``delivers_disconnect = False`` (TestClient's
        transport leaves a cancelled stream for the garbage collector).
        """
        return bool(getattr(self.client, "delivers_disconnect", True))

    def server_error(self) -> str | None:
        """What the server raised, or why it is gone; None when nothing went wrong there."""
        try:
            answer = fetch_json(self.client, ERRORS_PATH, MAX_ERRORS_REPLY, REPLY_TIMEOUT)
        except Exception:  # no answer, or one refused: ask the runner how the server ended
            return self.explain()
        errors = server_errors(answer)
        if not errors:
            return None
        last = errors[-1]
        where = f" ({str(last.file)[: checks.SHOWN]} line {last.line})" if last.line else ""
        return f"the server {last.summary[: checks.SHOWN]}{where}"

    def streamed(self) -> list[Streamed] | None:
        """What the probe saw the app's streaming responses iterate; None when it cannot say."""
        try:  # read as the errors are: uncompressed, capped, by a deadline
            answer = fetch_json(self.client, STREAMS_PATH, MAX_STREAMS_REPLY, REPLY_TIMEOUT)
            return parse_streamed(answer)
        except Exception:  # a dead or garbled server says nothing
            return None


def grade(ex: Exercise, target: Target) -> ExerciseResult:
    """Run every check of ``ex`` against ``target``, within the exercise's budget of time."""
    started = time.monotonic()
    target = dataclasses.replace(target, ends_at=started + EXERCISE_BUDGET * target.timeout)
    result = ex.grade(target)
    result.duration = time.monotonic() - started
    if result.checks:  # the instructor can grade again with the very same inputs
        first = result.checks[0]
        details = "\n".join(filter(None, [first.details, target.seed.describe()]))
        result.checks[0] = dataclasses.replace(first, details=details)
    return result


def read_with_inputs(
    target: Target, ex: Exercise, *, sse: bool, values: tuple[str, ...]
) -> Transcript:
    """Request the exercise's endpoint with the grader's inputs; the whole response."""
    reader = StreamReader(sse=sse)
    headers = {INPUTS_HEADER: encode_inputs(values)}
    reader.read(target.client, ex.path, target.deadline(), headers=headers)
    return reader.transcript


def response_check(ex: Exercise, t: Transcript, target: Target) -> Check:
    """The response came back 200 and ended on its own, in time and whole."""
    return checks.response_check(ex, t, target.timeout, target.server_error)


def exercise_result(ex: Exercise, t: Transcript, found: list[Check]) -> ExerciseResult:
    """Bundle an exercise's checks with the timeline of its main response."""
    return ExerciseResult(id=ex.id, checks=found, timeline=list(t.chunks), max_score=ex.max_score)
