"""The checks of each exercise, written against an httpx-style client.

The same functions grade a submission in-process (Starlette's TestClient) and
in a sandboxed server process (an httpx2 client on a Unix socket): they only
see what an HTTP client sees, plus the grader's own token feed and the source
text the grader read before the submission ran.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from grader import feedback, fixtures
from grader.contract import DEFAULT_PROMPT, EX1, EX2, EX3, Exercise
from grader.feed import FeedServer, StreamLog, Turn
from grader.loopwatch import (
    LoopWatch,
    StreamTimes,
    answered_late,
    thread_wakeups,
    worker_wakeups,
)
from grader.probe import ERRORS_PATH, INPUTS_HEADER, STREAMS_PATH, encode_inputs
from grader.probe_reply import MAX_ERRORS_REPLY, REPLY_TIMEOUT, fetch_json, server_errors
from grader.results import Check, ExerciseResult
from grader.sourcecheck import Streamed, async_generator_check, parse_streamed
from grader.transcript import StreamingClient, StreamReader, Transcript

# How long the grader waits for token k's event before it concludes that the
# endpoint holds events back. Only a buffering endpoint ever waits this long.
STALL_AFTER = 0.5
# However many requests an exercise makes, its grading ends within this many timeouts.
EXERCISE_BUDGET = 3
# After the client disconnects, how long the generator has to stop asking for tokens.
DISCONNECT_GRACE = 0.05
# How long the grader waits, after a hang-up, for a ping the server has not answered yet:
# a free loop answers in a millisecond, a blocked one when its block ends.
PONG_WAIT = 1.0
MAX_STREAMS_REPLY = 64 * 1024
SECOND_STREAM_TOKENS = 3  # the first tokens of the first stream's, for the second stream


@dataclass(frozen=True)
class Target:
    """What the checks talk to: a client for the submission's app and a per-exercise time limit."""

    client: StreamingClient
    timeout: float
    explain: Callable[[], str | None] = lambda: None
    # How long to watch a generator stop after a hang-up; 0 skips the disconnect advice
    # (in-process, TestClient leaves a cancelled generator for the garbage collector).
    disconnect_grace: float = DISCONNECT_GRACE
    # In-process, the probe's records of what the app raised and streamed can be read directly.
    recorded_errors: Callable[[], list[dict[str, object]]] | None = None
    recorded_streams: Callable[[], list[dict[str, object]]] | None = None
    seed: fixtures.Seed = field(default_factory=fixtures.Seed)  # the submission's inputs
    server_pid: int | None = None  # the server process, whose threads /proc shows
    ends_at: float = math.inf  # the exercise's own deadline, set when its grading starts

    def deadline(self) -> float:
        """The monotonic time by which one response must be over.

        Each response gets ``timeout``, and no response outlasts the exercise's deadline,
        so however many requests an exercise makes, it is over within EXERCISE_BUDGET
        timeouts whatever the submission sends.
        """
        return min(time.monotonic() + self.timeout, self.ends_at)

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

    def streamed(self) -> list[Streamed] | None:
        """What the probe saw the app's streaming responses iterate; None when it cannot say."""
        if self.recorded_streams is not None:
            return parse_streamed(self.recorded_streams())
        try:  # read as the errors are: uncompressed, capped, by a deadline
            answer = fetch_json(self.client, STREAMS_PATH, MAX_STREAMS_REPLY, REPLY_TIMEOUT)
            return parse_streamed(answer)
        except Exception:  # a dead or garbled server says nothing
            return None


def grade(
    ex: Exercise, target: Target, *, source: str = "", feed: FeedServer | None = None
) -> ExerciseResult:
    """Run every check of ``ex`` against ``target``."""
    started = time.monotonic()
    target = dataclasses.replace(target, ends_at=started + EXERCISE_BUDGET * target.timeout)
    if ex is EX1:
        result = grade_lines(target)
    elif ex is EX2:
        result = grade_messages(target)
    else:
        if feed is None:
            raise ValueError("exercise 3 is graded with the grader's token feed")
        result = grade_tokens(target, feed, source)
    result.duration = time.monotonic() - started
    if result.checks:  # the instructor can grade again with the very same inputs
        first = result.checks[0]
        details = "\n".join(filter(None, [first.details, target.seed.describe()]))
        result.checks[0] = dataclasses.replace(first, details=details)
    return result


def _read(target: Target, ex: Exercise, *, sse: bool, values: tuple[str, ...]) -> StreamReader:
    """Request the exercise's endpoint with the grader's inputs; record the whole response."""
    reader = StreamReader(sse=sse)
    headers = {INPUTS_HEADER: encode_inputs(values)}
    reader.read(target.client, ex.path, target.deadline(), headers=headers)
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
    lines = fixtures.lines(target.seed.value)
    t = _read(target, EX1, sse=False, values=lines).transcript
    checks = [_response_check(EX1, t, target)]
    if checks[0].passed:
        checks += [
            feedback.content_type_check(EX1, t),
            feedback.lines_body_check(t, list(lines)),
            feedback.lines_chunks_check(t, list(lines)),
        ]
    return _result(EX1, t, checks)


def grade_messages(target: Target) -> ExerciseResult:
    """Exercise 2: one SSE event per grader message, each in its own chunk."""
    messages = fixtures.messages(target.seed.value)
    t = _read(target, EX2, sse=True, values=messages).transcript
    checks = [_response_check(EX2, t, target)]
    if checks[0].passed:
        expected = list(messages)
        checks += [
            feedback.content_type_check(EX2, t),
            feedback.events_check(EX2, t, expected),
            *feedback.event_chunks_check(t, expected),
        ]
    return _result(EX2, t, checks)


@dataclass(frozen=True)
class TokenRun:
    """Two concurrent /tokens streams: the first one's response and feed log, and the loop watch."""

    transcript: Transcript
    call: StreamLog
    watch: LoopWatch
    prompt: str
    tokens: tuple[str, ...]
    events: int = 0  # events both streams received after their first ones
    wakeups: int | None = None  # wake-ups of the server's threads besides the loop's


def _failing(run: TokenRun) -> bool:
    """True when a run held events back or blocked its event loop."""
    return run.call.stalled or run.watch.blocked_seconds() >= feedback.BLOCKED_LIMIT


def _delivered(reader: StreamReader) -> Callable[[int], bool]:
    """The gate of a turn: k events of this response reached the client."""
    return lambda k: len(reader.transcript.events) >= k


class _FeedClock:
    """A client whose streaming responses note when their head arrived and wake the feed.

    After each chunk the reader has recorded (it asks for the next one then), the
    feed looks at its delivery gates at once instead of at its next poll.
    """

    def __init__(self, client: StreamingClient, feed: FeedServer) -> None:
        self.client = client
        self.feed = feed
        self.head: float | None = None

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[Any]:
        """Open the request; the time its head arrived is ``head``."""
        with self.client.stream(method, url, **kwargs) as response:
            self.head = time.monotonic()
            yield _WakingResponse(response, self.feed)

    def get(self, url: str, **kwargs: Any) -> Any:
        """Send a GET request and read the whole response."""
        return self.client.get(url, **kwargs)


class _WakingResponse:
    """A streaming response that wakes the feed each time the next chunk is asked for."""

    def __init__(self, response: Any, feed: FeedServer) -> None:
        self.response = response
        self.feed = feed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.response, name)

    def iter_raw(self) -> Iterator[bytes]:
        """The body's chunks; the feed is woken once the one before was recorded."""
        for data in self.response.iter_raw():
            yield data
            self.feed.wake()


def _times(reader: StreamReader, turn: Turn, head: float | None, end: float) -> StreamTimes:
    """One stream's milestones on the grader's clock, for the loop watch.

    Its first round starts when the response's head arrived: the app had the loop
    then, and what it did before (a handler that awaits) is the same in both streams.
    """
    t = reader.transcript
    arrivals = [t.started + t.chunks[index].t for index, _ in t.events]
    start = t.started if head is None else head
    log = turn.log
    return StreamTimes(start, list(log.released), arrivals, end, list(log.acked), list(log.pongs))


def _stream_pair(target: Target, feed: FeedServer, attempt: int, *, confirming: bool) -> TokenRun:
    """Stream /tokens twice at once, each request with a prompt of its own.

    Each request's tokens are released only as its own events arrive
    (``grader.feed``), so while one stream's generator works the other's next
    token is often already waiting to be read. Both get the same tokens, so a
    generator whose work depends on the token does the same work in both
    (``grader.loopwatch`` compares them). A confirming run hangs up as soon as a
    stream stalls or blocks the loop again.
    """
    seed = target.seed.value
    tokens = fixtures.tokens(seed, attempt)  # alike, so the two streams' work is alike
    # The second stream is short: a loop it blocks is seen in the first stream's pings,
    # and a blocking endpoint pays for one stream's tokens and a few, not two streams'.
    shares = (tokens, tokens[:SECOND_STREAM_TOKENS])
    readers = (StreamReader(sse=True), StreamReader(sse=True))
    turns = tuple(
        feed.open_turn(fixtures.prompt(seed, (attempt, j)), shares[j], _delivered(readers[j]))
        for j in (0, 1)
    )
    for turn in turns:
        turn.together = list(turns)
    ends = [0.0, 0.0]
    clients = (_FeedClock(target.client, feed), _FeedClock(target.client, feed))

    def stream(j: int) -> None:
        stop = (lambda: _trouble_again(turns)) if confirming else None
        params = {"prompt": turns[j].prompt}
        readers[j].read(clients[j], EX3.path, target.deadline(), stop=stop, params=params)
        ends[j] = time.monotonic()

    second = threading.Thread(target=stream, args=(1,), name="grader-second-stream")
    second.start()
    first = threading.Thread(target=stream, args=(0,), name="grader-first-stream")
    first.start()
    # Count worker threads' wake-ups only once both endpoints have returned their response
    # and sent a first event: a sync endpoint runs in the threadpool once, before that.
    for reader in readers:
        reader.wait_events(1, max(0.0, target.deadline() - time.monotonic()))
    counted = sum(len(reader.transcript.events) for reader in readers)
    before = thread_wakeups(target.server_pid) if target.server_pid else None
    first.join()
    second.join()
    after = thread_wakeups(target.server_pid) if target.server_pid else None
    woke = worker_wakeups(target.server_pid or 0, before, after) if before and after else None
    for turn in turns:
        feed.close_turn(turn)
        feed.wait_answered(turn, PONG_WAIT)
    times = [_times(readers[j], turns[j], clients[j].head, ends[j]) for j in (0, 1)]
    # The verdict rests on the worse of the two (nothing tells a server which one counts):
    # one that stalled its feed, else one whose events are not the tokens.
    wrong = [readers[j].transcript.event_data() != list(turns[j].tokens) for j in (0, 1)]
    judged = next(
        (j for j in (0, 1) if turns[j].log.stalled), wrong.index(True) if any(wrong) else 0
    )
    turn = turns[judged]
    events = sum(len(reader.transcript.events) for reader in readers) - counted
    return TokenRun(
        readers[judged].transcript,
        turn.log,
        LoopWatch(*times),
        turn.prompt,
        turn.tokens,
        events,
        woke,
    )


def _trouble_again(turns: tuple[Turn, ...]) -> bool:
    """True as soon as a confirming run stalled or was seen blocking its loop."""
    spans = [
        span
        for turn in turns
        for span in (*zip(turn.log.released, turn.log.acked, strict=False), *turn.log.pongs)
    ]
    stalled = any(turn.log.stalled for turn in turns)
    return stalled or answered_late(spans) >= feedback.BLOCKED_LIMIT


def _confirmed(target: Target, feed: FeedServer, run: TokenRun) -> TokenRun:
    """Stream once more when the run looked buffered or blocking; keep the run that decides.

    A busy machine can delay one run; an endpoint that holds events back or blocks
    its loop does it every time, so the verdict never rests on a single hiccup.
    """
    if not _failing(run):
        return run
    again = _stream_pair(target, feed, 1, confirming=True)
    if _failing(again) or feedback.response_problem(
        EX3, again.transcript, target.timeout, lambda: None
    ):
        return run
    return again


def grade_tokens(target: Target, feed: FeedServer, source: str) -> ExerciseResult:
    """Exercise 3: tokens awaited in an async generator, each sent before the next is produced."""
    run = first = _stream_pair(target, feed, 0, confirming=False)
    checks = [_response_check(EX3, run.transcript, target)]
    hang_up: HangUp | None = None
    if checks[0].passed:
        run = _confirmed(target, feed, run)
        if run.call.prompt is not None:
            hang_up = _hang_up_early(target, feed, gated=not _failing(run))
        t, call, expected = run.transcript, run.call, list(run.tokens)
        watch = run.watch.with_alone(hang_up.pongs if hang_up else [])
        checks += [
            feedback.content_type_check(EX3, t),
            feedback.prompt_check(call if call.prompt is not None else None, run.prompt),
            feedback.events_check(EX3, t, expected),
            feedback.live_check(call, t, len(expected)),
            *feedback.event_chunks_check(t, expected),
            feedback.loop_check(watch),
        ]
    result = _result(EX3, run.transcript, checks)
    result.released = [t - run.transcript.started for t in run.call.released]
    if hang_up is not None:
        result.checks.append(feedback.default_prompt_check(hang_up.call, DEFAULT_PROMPT))
        if target.disconnect_grace > 0:
            result.advice += feedback.disconnect_advice(hang_up.call, hang_up.at)
    rule = async_generator_check(source, target.streamed(), first.wakeups, first.events)
    result.checks.insert(0, rule)
    return result


@dataclass(frozen=True)
class HangUp:
    """A request without a prompt that the client left after its first event."""

    call: StreamLog | None  # what its calls to the feed did, when there were any
    at: float  # when the client hung up
    pongs: list[tuple[float, float]]  # pings to the server meanwhile: sent, answered


def _hang_up_early(target: Target, feed: FeedServer, *, gated: bool) -> HangUp:
    """Request without a prompt and hang up after the first event.

    Gated, a streaming generator is still waiting for its next token when the client
    leaves, so whether it stops shows. An endpoint already found holding events back
    or blocking its loop is not gated again: it would only stall or block once more.
    """
    reader = StreamReader(sse=True)
    gate = _delivered(reader) if gated else (lambda _k: True)
    turn = feed.open_turn(DEFAULT_PROMPT, fixtures.tokens(target.seed.value, "default"), gate)
    client = _FeedClock(target.client, feed)
    reader.read(client, EX3.path, target.deadline(), stop_after_events=1)
    hung_up = time.monotonic()
    called = feed.wait_called(turn, DISCONNECT_GRACE)
    feed.close_turn(turn)
    feed.wait_answered(turn, PONG_WAIT)  # a ping a blocked loop is still to answer counts too
    if called and target.disconnect_grace > 0:
        feed.wait_closed(turn, target.disconnect_grace)
    call = turn.log if turn.log.prompt is not None else None
    return HangUp(call, hung_up, list(turn.log.pongs))
