"""Exercise 4, "Stop when the client leaves" (a challenge): the reading ends with the stream.

GET /logs?name=NAME follows the log NAME like ``tail -f``: one event per line,
its data the line, from ``source.follow(name)``, for as long as the log grows.
When the client disconnects, the endpoint must stop reading the log.

How it is judged, from the grader's side only. The grader's feed
(grader/feed.py) takes the place of the module's ``source``: ``follow(name)``
opens a call to the feed that presents the name and asks for each line, and
the grader hands each line out and notes when. Each request's name is a secret
drawn for it, so only that request's reading counts; a decoy call with another
name reads nothing. Line j is handed out once j events reached the client, so
nothing is read ahead of what the client got. The client takes k events (k
drawn from the seed) and hangs up; from then on the log grows by a line every
``LINE_EVERY``, as a live log does, and the grader watches its side of the
feed: every line asked for after the hang-up, and when the last reader of the
log let go. The line the endpoint was already waiting for is handed out only
after the hang-up, one ``LINE_EVERY`` later, so an endpoint that stops at once
reads nothing more. The endpoint passes when all its reading of the log ended
within ``STOP_WITHIN`` of the hang-up.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import ModuleType

from grader import fixtures
from grader.checks import content_type_check, events_check, plural, response_problem, short
from grader.exercises.base import Exercise
from grader.feed import FeedClient, FeedServer, Turn, WakingClient
from grader.grading import Target, exercise_result
from grader.probe import Probe
from grader.results import Check, ExerciseResult
from grader.transcript import StreamReader, Transcript

# A server learns that its client closed the connection within milliseconds, and a
# cancelled generator closes its reader at once; a loaded machine may hold the server
# off its CPU for some tens of milliseconds. Reading that goes on longer than this
# after the hang-up is a reader nobody stopped.
STOP_WITHIN = 0.3
# After the hang-up the log grows by a line this often, as a live log does: a reader
# nobody stopped asks for one line after another, and each is counted.
LINE_EVERY = 0.02
# How long the grader watches the feed after the hang-up: at least MIN_WATCH (a reader
# that lets go and comes back is seen), and up to WATCH while the log is still read.
MIN_WATCH = 0.5
WATCH = 1.0
# A reader that took a line this close to the end of the watch was still reading then
# (a loaded machine may hold it off its CPU for a while between two lines).
STILL_READING = 0.25
EVENTS_BEFORE_LEAVING = (3, 6)  # k: the events the client takes before it hangs up
SPARE_LINES = 10  # lines beyond what a reader nobody stopped reads while watched
LOG_NAMES = ("api", "worker", "billing", "nginx", "auth", "kafka", "déploiement", "ingest")
LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR")
NONCE_LETTERS = "abcdefghjkmnpqrstuvwxyzäöüß0123456789"


def events_before_leaving(seed: int) -> int:
    """k: how many events the client takes before it hangs up."""
    return fixtures.rng(seed, "ex4", "k").randint(*EVENTS_BEFORE_LEAVING)


def log_name(seed: int, attempt: int) -> str:
    """A request's log name: a word, then a nonce no other request shares."""
    rng = fixtures.rng(seed, "ex4", "name", attempt)
    nonce = "".join(rng.choice(NONCE_LETTERS) for _ in range(8))
    return f"{rng.choice(LOG_NAMES)}-{nonce}"


def log_lines(seed: int, attempt: int, count: int) -> tuple[str, ...]:
    """``count`` log lines: a time, a level and a few words, some of them non-ASCII."""
    rng = fixtures.rng(seed, "ex4", "lines", attempt)
    clock = rng.uniform(0, 86_400)
    drawn = []
    for number in range(count):
        clock += rng.uniform(0.001, 2.0)
        stamp = time.strftime("%H:%M:%S", time.gmtime(clock)) + f".{int(clock * 1000) % 1000:03d}"
        words = fixtures.phrase(rng, rng.randint(2, 5))
        drawn.append(f"{stamp} {rng.choice(LEVELS)} #{number + 1} {words}")
    return tuple(drawn)


class FeedLogs:
    """The grader's log store, in place of the module's ``source``, inside the sandbox.

    ``follow(name)`` is a call to the grader's feed presenting ``name``: each line is
    asked for, and handed out, by the grader.
    """

    def __init__(self, fd: int) -> None:
        self._client = FeedClient(fd)

    def __repr__(self) -> str:
        return "FeedLogs()"

    def follow(self, name: str) -> AsyncIterator[str]:
        """Each new line of the log ``name``, awaited one at a time."""
        return self._client.stream(name)


@dataclass(frozen=True)
class Departure:
    """One request whose client left at event k: what came back, and the feed's record of it.

    The record after the hang-up is taken when the watch ended: whatever the server
    does later is not what it was judged on.
    """

    transcript: Transcript
    turn: Turn
    name: str
    lines: tuple[str, ...]
    k: int
    hung_up: float | None = None  # None when the client never got k events
    watched: float = 0.0  # seconds the grader watched the feed after the hang-up
    read_after: tuple[float, ...] = ()  # when each line after the hang-up went, seconds after
    let_go: float | None = None  # seconds after the hang-up when the last reader let go
    calls: int = 0  # calls to the feed that presented the request's log name
    open_calls: int = 0  # of those, the ones still open when the watch ended
    earlier: str = ""  # the record of a first run that looked slow, when this one decided

    @property
    def stopped(self) -> bool:
        """True when all reading of the log ended within STOP_WITHIN of the hang-up."""
        let_go = self.let_go
        return let_go is not None and let_go <= STOP_WITHIN and not self.turn.log.stalled


def _record(run: Departure, hung_up: float, watched: float) -> Departure:
    """The run with the feed's record of its reading after the hang-up, as it is now."""
    log, open_calls = run.turn.log, run.turn.live
    closed = log.closed_at
    return dataclasses.replace(
        run,
        hung_up=hung_up,
        watched=watched,
        read_after=tuple(t - hung_up for t in list(log.released) if t > hung_up),
        let_go=max(0.0, closed - hung_up) if closed is not None and not open_calls else None,
        calls=log.calls,
        open_calls=open_calls,
    )


def _gate(reader: StreamReader, k: int, hung_up: list[float]) -> Callable[[int], bool]:
    """Line j goes once j events arrived (j < k); after the hang-up, one every LINE_EVERY."""

    def may_release(j: int) -> bool:
        if j < k:
            return len(reader.transcript.events) >= j
        due = _line_due(j, k, hung_up)
        return due is not None and time.monotonic() >= due

    return may_release


def _line_due(j: int, k: int, hung_up: list[float]) -> float | None:
    """When line j (j >= k) goes by itself: one every LINE_EVERY after the hang-up."""
    return hung_up[0] + (j - k + 1) * LINE_EVERY if j >= k and hung_up else None


def leave_mid_stream(ex: Exercise, target: Target, feed: FeedServer, attempt: int) -> Departure:
    """Follow a log, take k events, hang up, and watch the feed for the reading to stop."""
    seed = target.seed.value
    k = events_before_leaving(seed)
    name = log_name(seed, attempt)
    lines = log_lines(seed, attempt, k + math.ceil(WATCH / LINE_EVERY) + SPARE_LINES)
    reader = StreamReader(sse=True)
    hung_up: list[float] = []
    turn = feed.open_turn(
        name, lines, _gate(reader, k, hung_up), lambda j: _line_due(j, k, hung_up)
    )
    try:
        client = WakingClient(target.client, feed)  # line j may go once event j is recorded
        t = reader.read(
            client, ex.path, target.deadline(), stop_after_events=k, params={"name": name}
        )
        run = Departure(t, turn, name, lines, k, calls=turn.log.calls)
        if len(t.events) < k or t.status != 200:
            return run
        hung_up.append(time.monotonic())
        feed.wake()
        return _record(run, hung_up[0], _watch(feed, turn, hung_up[0], target.ends_at))
    finally:
        feed.close_turn(turn)


def _watch(feed: FeedServer, turn: Turn, hung_up: float, ends_at: float) -> float:
    """Watch the turn's readers after the hang-up; how long the grader watched.

    The watch ends MIN_WATCH after the hang-up once no reader is left (a reader
    that let go and came back is seen), else WATCH after it.
    """
    end = min(hung_up + WATCH, ends_at)
    while (now := time.monotonic()) < end:
        if not feed.wait_closed(turn, end - now):
            break  # still read, or held open, when the watch ended
        quiet = hung_up + MIN_WATCH - time.monotonic()
        if quiet > 0:
            time.sleep(min(quiet, max(0.0, end - time.monotonic())))
        if turn.log.closed_at is not None and not turn.live:
            break
    return time.monotonic() - hung_up


def response_check(ex: Exercise, run: Departure, target: Target) -> Check:
    """The response came back 200 and streamed until the client left."""
    t, where = run.transcript, f"{ex.method} {ex.path}"
    if run.hung_up is not None:
        return Check("response", True, f"{where} answered 200 and streamed until the client left.")
    problem = response_problem(ex, t, target.timeout, target.server_error)
    if problem is None:  # it ended on its own before the client left
        problem = (
            f"{where} ended after {plural(len(t.events), 'event')}, while the log still "
            f"grew ({len(run.lines)} lines and more to come): a stream that follows a log "
            "goes on for as long as the log grows."
        )
    return Check("response", False, problem + _name_problem(run))


def _name_problem(run: Departure) -> str:
    """What the endpoint did with the request's log name, when it did not follow that log."""
    log = run.turn.log
    if run.calls:
        return ""
    if log.prompt is None:
        return " It never called source.follow() for the log the request named."
    return (
        f" It followed the log {short(log.prompt)}, not the one the request named "
        f"({run.name!r}): pass the name parameter to source.follow()."
    )


def lines_check(ex: Exercise, run: Departure) -> Check:
    """Until the client left, one event per line of the log, each sent as it was read."""
    log = run.turn.log
    if log.stalled:
        return Check(
            "events",
            False,
            f"The endpoint held line {log.stalled_at} of the log back: it asked for the next "
            "line before the client got the event of this one, and waited for it. Send each "
            "line as an event as soon as it is read.",
        )
    return events_check(ex, run.transcript, list(run.lines[: run.k]))


def stop_check(run: Departure, target: Target) -> Check:
    """After the hang-up, every reader of the log let go within STOP_WITHIN."""
    if run.hung_up is None or run.turn.log.stalled:
        return Check(
            "stops",
            False,
            "Not judged: the grader leaves after the first events of a stream that sends "
            "each line as it is read, and this one did not (see the checks above).",
        )
    if not run.calls:
        return Check(
            "stops",
            False,
            "Not judged: the endpoint never read the log the request named, so there was no "
            "reading to stop." + (_name_problem(run) if run.turn.log.prompt is not None else ""),
        )
    read, left = run.read_after, f"After the client left at event {run.k},"
    if run.stopped:
        message = (
            f"{left} the endpoint stopped reading the log within "
            f"{(run.let_go or 0.0) * 1000:.0f} ms ({plural(len(read), 'more line')})."
        )
        earlier = f"A first run looked slow: {run.earlier}" if run.earlier else ""
        return Check("stops", True, message + _client_note(target, passed=True), details=earlier)
    return Check(
        "stops",
        False,
        f"{left} the endpoint {_went_on(run, read)}" + _client_note(target, passed=False),
        details=_details(run),
    )


def _went_on(run: Departure, read: tuple[float, ...]) -> str:
    """How the reading went on after the hang-up, in numbers, and what that points at."""
    lines = plural(len(read), "more line")
    let_go = run.let_go
    if let_go is not None:
        return _late(let_go, lines)
    return _never_stopped(run, read, lines) + (
        " Something reads the log apart from the response's generator (a task, a thread, "
        "a loop) and outlives the request."
    )


def _late(let_go: float, lines: str) -> str:
    """The reading stopped, but later than STOP_WITHIN after the hang-up."""
    return (
        f"went on reading the log for {let_go:.2f} s ({lines}) before it let go; it must "
        f"stop within {STOP_WITHIN:g} s. Whatever reads the log learns too late that the "
        "client is gone."
    )


def _never_stopped(run: Departure, read: tuple[float, ...], lines: str) -> str:
    """The log was still read, or still held open, when the watch ended."""
    if read and read[-1] >= run.watched - STILL_READING:
        return (
            f"went on reading the log for {run.watched:.2f} s ({lines}), and was still "
            "reading when the grader stopped watching."
        )
    if read:
        return (
            f"went on reading the log for {read[-1]:.2f} s ({lines}), then held it open "
            f"without reading: {run.watched:.2f} s after the hang-up its reader still waited."
        )
    return (
        f"read no more lines, but never let go of the log: {run.watched:.2f} s after the "
        "hang-up its reader still waited for the next line."
    )


def _client_note(target: Target, *, passed: bool) -> str:
    """What the client the verdict rests on means for it: TestClient never sends http.disconnect."""
    if target.hears_hang_ups():
        return ""
    if passed:
        return " (In-process: the reading stopped when the test client cancelled the request.)"
    return (
        " In-process, the test client cannot tell the app that it left: it cancels the "
        "request but never sends http.disconnect, so request.is_disconnected() stays False. "
        "Only the sandboxed grader, whose client closes a real connection, can judge this."
    )


def _details(run: Departure) -> str:
    """The feed's record of the reading after the hang-up, for the instructor."""
    read = run.read_after
    shown = ", ".join(f"{t * 1000:.0f}" for t in read[:20]) + (" …" if len(read) > 20 else "")
    return (
        f"log {run.name!r}: {run.calls} call(s) presented its name, {run.open_calls} still open "
        f"after {run.watched:.2f} s; lines handed out after the hang-up at ms: {shown or 'none'}"
    )


def grade_departures(ex: Exercise, target: Target, feed: FeedServer) -> ExerciseResult:
    """Response, Content-Type, the events until the client left, and the reading stopping."""
    run = _confirmed(ex, target, feed, leave_mid_stream(ex, target, feed, 0))
    found = [response_check(ex, run, target)]
    if found[0].passed:
        found += [
            content_type_check(ex, run.transcript),
            lines_check(ex, run),
            stop_check(run, target),
        ]
    return exercise_result(ex, run.transcript, found)


def _confirmed(ex: Exercise, target: Target, feed: FeedServer, run: Departure) -> Departure:
    """A second run when the first held a line back or read on; the run the verdict rests on.

    A loaded machine can hold a right server off its CPU once; a server that holds
    lines back or reads on after its client left does it every time, so the verdict
    never rests on one slow run. The first run's record stays in the details.
    """
    if run.hung_up is None or run.stopped:
        return run
    again = leave_mid_stream(ex, target, feed, 1)
    if again.hung_up is None or not again.stopped or not lines_check(ex, again).passed:
        return run
    return dataclasses.replace(again, earlier=_details(run))


class StopWhenClientLeaves(Exercise):
    """GET /logs follows a log as events, and stops reading it when the client leaves."""

    def serve(self, module: ModuleType, feed_fd: int | None) -> Probe:
        """The app, with the grader's log store on the feed in place of ``source``."""
        if feed_fd is None:
            raise ValueError(f"{self.id} needs the grader's feed")
        module.source = FeedLogs(feed_fd)
        return Probe(module.app, self.filename)

    def grade(self, target: Target) -> ExerciseResult:
        """The events until the client leaves, then whether the reading stops."""
        if target.feed is None:
            raise ValueError(f"{self.id} is graded with the grader's feed")
        return grade_departures(self, target, target.feed)


EXERCISE = StopWhenClientLeaves(
    id="ex4",
    module="ex4_stop_when_client_leaves",
    title="Stop when the client leaves",
    method="GET",
    path="/logs",
    media_type="text/event-stream",
    hint=(
        "Read the log inside the generator that streams the response: "
        'async for line in source.follow(name): yield f"data: {line}\\n\\n". When the '
        "client disconnects, the server cancels that generator, and the reading stops with "
        "it. A task of your own (asyncio.create_task) or a thread goes on reading after the "
        "client left unless you stop it: cancel the task in the generator's finally: block, "
        "or check await request.is_disconnected() before reading the next line. Don't catch "
        "asyncio.CancelledError to carry on."
    ),
    challenge=True,
    nudges={
        "stops": "Look at what reads the log: what stops it when the client leaves?",
        "response": "Look at what you pass to source.follow(), and at how long the stream lasts.",
        "events": "Compare what your generator yields for each line with the expected events.",
    },
    uses_feed=True,
    data_source="source.follow(name)",
)
