"""The checks of each exercise, written against an httpx-style client.

The same functions grade a submission in-process (Starlette's TestClient) and
in a sandboxed server process (an httpx2 client on a Unix socket): they only
see what an HTTP client sees, plus the grader's own token feed and the source
text the grader read before the submission ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from grader import feedback, fixtures
from grader.contract import DEFAULT_PROMPT, EX1, EX2, EX3, Exercise
from grader.feed import FeedServer, StreamLog
from grader.loopwatch import LoopWatch
from grader.probe import ERRORS_PATH
from grader.probe_reply import MAX_ERRORS_REPLY, REPLY_TIMEOUT, fetch_json, server_errors
from grader.results import Check, ExerciseResult
from grader.sourcecheck import async_generator_check
from grader.transcript import StreamingClient, StreamReader, Transcript

# How long the grader waits for token k's event before it concludes that the
# endpoint holds events back. Only a buffering endpoint ever waits this long.
STALL_AFTER = 0.5
# After the client disconnects, how long the generator has to stop asking for tokens.
DISCONNECT_GRACE = 0.05


@dataclass(frozen=True)
class Target:
    """What the checks talk to: a client for the submission's app and a per-exercise time limit."""

    client: StreamingClient
    timeout: float
    explain: Callable[[], str | None] = lambda: None
    # How long to watch a generator stop after a hang-up; 0 skips the disconnect advice
    # (in-process, TestClient leaves a cancelled generator for the garbage collector).
    disconnect_grace: float = DISCONNECT_GRACE
    loop_pid: int | None = None  # the process running the app's event loop, when known
    same_process: bool = False  # the app runs in this process (in-process grading)
    # In-process, the probe's record of what the app raised can be read directly.
    recorded_errors: Callable[[], list[dict[str, object]]] | None = None

    def deadline(self) -> float:
        """The monotonic time by which one response must be over."""
        return time.monotonic() + self.timeout

    def server_error(self) -> str | None:
        """What the server raised, or why it is gone; None when nothing went wrong there."""
        try:
            if self.recorded_errors is not None:
                answer: object = self.recorded_errors()
            else:
                answer = fetch_json(self.client, ERRORS_PATH, MAX_ERRORS_REPLY, REPLY_TIMEOUT)
        except Exception:  # no answer, or one refused: ask the runner how the server ended
            return self.explain()
        errors = server_errors(answer)
        if not errors:
            return None
        last = errors[-1]
        where = f" ({str(last.file)[: feedback.SHOWN]} line {last.line})" if last.line else ""
        return f"the server {last.summary[: feedback.SHOWN]}{where}"


def grade(
    ex: Exercise, target: Target, *, source: str = "", feed: FeedServer | None = None
) -> ExerciseResult:
    """Run every check of ``ex`` against ``target``."""
    started = time.monotonic()
    if ex is EX1:
        result = grade_lines(target)
    elif ex is EX2:
        result = grade_messages(target)
    else:
        if feed is None:
            raise ValueError("exercise 3 is graded with the grader's token feed")
        result = grade_tokens(target, feed, source)
    result.duration = time.monotonic() - started
    return result


def _read(target: Target, ex: Exercise, *, sse: bool, **params: str) -> StreamReader:
    """Request the exercise's endpoint and record the whole response."""
    reader = StreamReader(sse=sse)
    reader.read(target.client, ex.path, target.deadline(), params=params or None)
    return reader


def _response_check(ex: Exercise, t: Transcript, target: Target) -> Check:
    """The response came back 200 and ended on its own, in time and whole."""
    problem = feedback.response_problem(ex, t, target.timeout, target.server_error)
    return Check(
        "response",
        problem is None,
        problem or f"{ex.method} {ex.path} answered 200 and the stream ended.",
    )


def _result(ex: Exercise, t: Transcript, checks: list[Check]) -> ExerciseResult:
    """Bundle checks with the timeline of the main response."""
    return ExerciseResult(id=ex.id, checks=checks, timeline=list(t.chunks), max_score=ex.max_score)


def grade_lines(target: Target) -> ExerciseResult:
    """Exercise 1: the grader's lines, one chunk per line, as text/plain."""
    t = _read(target, EX1, sse=False).transcript
    checks = [_response_check(EX1, t, target)]
    if checks[0].passed:
        checks += [
            feedback.content_type_check(EX1, t),
            feedback.lines_body_check(t, list(fixtures.LINES)),
            feedback.lines_chunks_check(t, list(fixtures.LINES)),
        ]
    return _result(EX1, t, checks)


def grade_messages(target: Target) -> ExerciseResult:
    """Exercise 2: one SSE event per grader message, each in its own chunk."""
    t = _read(target, EX2, sse=True).transcript
    checks = [_response_check(EX2, t, target)]
    if checks[0].passed:
        expected = list(fixtures.MESSAGES)
        checks += [
            feedback.content_type_check(EX2, t),
            feedback.events_check(EX2, t, expected),
            *feedback.event_chunks_check(t, expected),
        ]
    return _result(EX2, t, checks)


@dataclass(frozen=True)
class TokenRun:
    """One /tokens stream as the grader saw it: the response, the feed's log and the loop watch."""

    transcript: Transcript
    call: StreamLog | None
    watch: LoopWatch


def _failing(call: StreamLog | None, watch: LoopWatch) -> bool:
    """True when a run held events back or blocked its event loop."""
    return (call is not None and call.stalled) or watch.blocked_seconds() >= feedback.BLOCKED_LIMIT


def _stream_tokens(target: Target, feed: FeedServer, *, confirming: bool = False) -> TokenRun:
    """Stream /tokens for the grader's prompt, gating tokens on delivery and watching the loop.

    A confirming run hangs up as soon as it shows the same trouble again.
    """
    calls_before = len(feed.calls)
    reader = StreamReader(sse=True)
    feed.gate_on(reader.wait_events)

    def call() -> StreamLog | None:
        return feed.calls[calls_before] if len(feed.calls) > calls_before else None

    watch = LoopWatch(
        target.client,
        until=lambda: reader.done,
        server_pid=target.loop_pid,
        same_process=target.same_process,
    )
    with watch:
        stop = (lambda: _failing(call(), watch)) if confirming else None
        params = {"prompt": fixtures.PROMPT}
        reader.read(target.client, EX3.path, target.deadline(), stop=stop, params=params)
    return TokenRun(reader.transcript, call(), watch)


def _confirmed(target: Target, feed: FeedServer, run: TokenRun) -> TokenRun:
    """Stream once more when the run looked buffered or blocking; keep the run that decides.

    A busy machine can delay one run; an endpoint that holds events back or blocks
    its loop does it every time, so the verdict never rests on a single hiccup.
    """
    if not _failing(run.call, run.watch):
        return run
    again = _stream_tokens(target, feed, confirming=True)
    if _failing(again.call, again.watch) or feedback.response_problem(
        EX3, again.transcript, target.timeout, lambda: None
    ):
        return run
    return again


def grade_tokens(target: Target, feed: FeedServer, source: str) -> ExerciseResult:
    """Exercise 3: tokens awaited in an async generator, each sent before the next is produced."""
    run = _stream_tokens(target, feed)
    checks = [async_generator_check(source), _response_check(EX3, run.transcript, target)]
    if checks[1].passed:
        run = _confirmed(target, feed, run)
        t, call, expected = run.transcript, run.call, list(fixtures.TOKENS)
        checks += [
            feedback.content_type_check(EX3, t),
            feedback.prompt_check(call, fixtures.PROMPT),
            feedback.events_check(EX3, t, expected),
            feedback.live_check(call, t, len(expected)),
            *feedback.event_chunks_check(t, expected),
            feedback.loop_check(run.watch),
        ]
    result = _result(EX3, run.transcript, checks)
    if run.call is not None:
        result.released = [t - run.transcript.started for t in run.call.released]
    if checks[1].passed and feed.calls:
        call, hung_up = _hang_up_early(target, feed, gated=not _failing(run.call, run.watch))
        result.checks.append(feedback.default_prompt_check(call, DEFAULT_PROMPT))
        if target.disconnect_grace > 0:
            result.advice += feedback.disconnect_advice(call, hung_up)
    return result


def _hang_up_early(
    target: Target, feed: FeedServer, *, gated: bool
) -> tuple[StreamLog | None, float]:
    """Request without a prompt, hang up after the first event; return that call and when.

    Gated, a streaming generator is still waiting for its next token when the client
    leaves, so whether it stops shows. An endpoint already found holding events back
    or blocking its loop is not gated again: it would only stall or block once more.
    """
    calls_before = len(feed.calls)
    reader = StreamReader(sse=True)
    feed.gate_on(reader.wait_events if gated else lambda _n, _timeout: True)
    reader.read(target.client, EX3.path, target.deadline(), stop_after_events=1)
    hung_up = time.monotonic()
    if not feed.wait_for_call(calls_before, DISCONNECT_GRACE):
        return None, hung_up
    if target.disconnect_grace > 0:
        feed.wait_closed(target.disconnect_grace)
    return feed.calls[calls_before], hung_up
