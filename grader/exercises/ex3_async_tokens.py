"""Exercise 3, "Sync or async generator?": tokens awaited in an async generator, streamed live.

The grader's AI client (grader/feed.py) takes the place of the module's
``client``: it hands out token k+1 only once token k's event has reached the
grader, so an endpoint that collects every token first is caught as buffered,
and it answers pings that show whether the event loop stayed free
(grader/loopwatch.py). Two streams run at once, each with a prompt of its own;
a third request, without a prompt, is left after its first event, to see the
default prompt and whether the generator stops when its client leaves.

The async-generator rule is judged on what the route really iterated, as the
probe reports it, each function looked up in the source the grader read before
anything ran (``grader.sourcecheck``). The report comes from the hostile
server, so the grader also counts, from outside, how often the server's threads
other than the event loop's woke while the tokens streamed (the kernel's count
of voluntary context switches in /proc, which the server cannot lower):
Starlette runs each step of a sync iterator in a worker thread, so such a route
wakes one for every event however it reports itself, while an async
generator's stream wakes none.
"""

from __future__ import annotations

import ast
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from grader import fixtures
from grader.checks import (
    content_type_check,
    event_chunks_check,
    events_check,
    plural,
    response_problem,
    short,
)
from grader.exercises.base import Exercise
from grader.feed import FeedClient, FeedServer, StreamLog, Turn, WakingClient
from grader.grading import Target, exercise_result, response_check
from grader.loopwatch import (
    LoopWatch,
    StreamTimes,
    answered_late,
    thread_wakeups,
    worker_wakeups,
)
from grader.probe import Probe
from grader.results import Check, ExerciseResult
from grader.settings import BLOCKED_LIMIT, DISCONNECT_GRACE, PONG_WAIT
from grader.sourcecheck import Streamed, defined_at, is_generator
from grader.transcript import StreamReader, Transcript

DEFAULT_PROMPT = "Say hello"
DEFAULT_TOKENS = ("Hello", ",", " world", "!")  # what the module's own client yields
TOKEN_COUNT = (5, 7)  # the module's own client yields 4 tokens
SECOND_STREAM_TOKENS = 3  # the first tokens of the first stream's, for the second stream
PROMPTS = (
    "Explain SSE in {n} words",
    "Résume le streaming en {n} mots",
    "Write {n} words about event loops",
    "Tell a {n}-word story about a byte",
    "List {n} things a browser does with text/event-stream",
)
NONCE_LETTERS = "abcdefghjkmnpqrstuvwxyzäöüß0123456789"
ASYNC_RULE = "async generator"
ASYNC_RULE_NUDGE = (
    "Look at how your generator is defined: can it await what client.stream() gives it?"
)
# A sync iterator in the threadpool wakes a worker at least once per event; a sync
# endpoint around an async generator runs there only before its first event, uncounted.
MIN_WAKEUPS = 6


def token_count(seed: int) -> int:
    """How many tokens each request gets (the same for every request)."""
    return fixtures.rng(seed, "ex3", "count").randint(*TOKEN_COUNT)


def tokens(seed: int, request: object) -> tuple[str, ...]:
    """The tokens of one request: some non-ASCII, some with one or two leading spaces."""
    rng = fixtures.rng(seed, "ex3", "tokens", request)
    count = token_count(seed)
    drawn = []
    for _ in range(count):
        word = (
            rng.choice(fixtures.WORDS)
            if rng.random() < 0.8
            else rng.choice(fixtures.PUNCTUATION).strip()
        )
        drawn.append(" " * rng.choice((0, 0, 1, 1, 2)) + word)
    # One token at least keeps a leading space.
    drawn[rng.randrange(1, count)] = " " + rng.choice(fixtures.NON_ASCII)
    return tuple(drawn)


def prompt(seed: int, request: object) -> str:
    """The prompt of one request: words, then a nonce no other request shares."""
    rng = fixtures.rng(seed, "ex3", "prompt", request)
    nonce = "".join(rng.choice(NONCE_LETTERS) for _ in range(8))
    return f"{rng.choice(PROMPTS).format(n=rng.randint(3, 12))}, s'il vous plaît ✓ [{nonce}]"


class AsyncTokens(Exercise):
    """GET /tokens streams the grader's AI client's tokens, each as soon as it is produced."""

    def serve(self, module: ModuleType, feed_fd: int | None) -> Probe:
        """The app, with the grader's AI client on the feed in place of ``client``."""
        if feed_fd is None:
            raise ValueError(f"{self.id} needs the grader's token feed")
        module.client = FeedClient(feed_fd)
        return Probe(module.app, self.filename)

    def grade(self, target: Target) -> ExerciseResult:
        """Tokens awaited in an async generator, each sent before the next is produced."""
        if target.feed is None:
            raise ValueError(f"{self.id} is graded with the grader's token feed")
        return grade_tokens(self, target, target.feed)


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
    return run.call.stalled or run.watch.blocked_seconds() >= BLOCKED_LIMIT


def _delivered(reader: StreamReader) -> Callable[[int], bool]:
    """The gate of a turn: k events of this response reached the client."""
    return lambda k: len(reader.transcript.events) >= k


class _FeedClock(WakingClient):
    """A client whose streaming responses wake the feed, and note when their head arrived."""

    head: float | None = None

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[Any]:
        """Open the request; the time its head arrived is ``head``."""
        with super().stream(method, url, **kwargs) as response:
            self.head = time.monotonic()
            yield response


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


def _stream_pair(
    ex: Exercise, target: Target, feed: FeedServer, attempt: int, *, confirming: bool
) -> TokenRun:
    """Stream /tokens twice at once, each request with a prompt of its own.

    Each request's tokens are released only as its own events arrive
    (``grader.feed``), so while one stream's generator works the other's next
    token is often already waiting to be read. Both get the same tokens, so a
    generator whose work depends on the token does the same work in both
    (``grader.loopwatch`` compares them). A confirming run hangs up as soon as a
    stream stalls or blocks the loop again.
    """
    seed = target.seed.value
    drawn = tokens(seed, attempt)  # alike, so the two streams' work is alike
    # The second stream is short: a loop it blocks is seen in the first stream's pings,
    # and a blocking endpoint pays for one stream's tokens and a few, not two streams'.
    shares = (drawn, drawn[:SECOND_STREAM_TOKENS])
    readers = (StreamReader(sse=True), StreamReader(sse=True))
    turns = tuple(
        feed.open_turn(prompt(seed, (attempt, j)), shares[j], _delivered(readers[j]))
        for j in (0, 1)
    )
    for turn in turns:
        turn.together = list(turns)
    ends = [0.0, 0.0]
    clients = (_FeedClock(target.client, feed), _FeedClock(target.client, feed))

    def stream(j: int) -> None:
        stop = (lambda: _trouble_again(turns)) if confirming else None
        params = {"prompt": turns[j].prompt}
        readers[j].read(clients[j], ex.path, target.deadline(), stop=stop, params=params)
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
    return stalled or answered_late(spans) >= BLOCKED_LIMIT


def _confirmed(ex: Exercise, target: Target, feed: FeedServer, run: TokenRun) -> TokenRun:
    """Stream once more when the run looked buffered or blocking; keep the run that decides.

    A busy machine can delay one run; an endpoint that holds events back or blocks
    its loop does it every time, so the verdict never rests on a single hiccup.
    """
    if not _failing(run):
        return run
    again = _stream_pair(ex, target, feed, 1, confirming=True)
    if _failing(again) or response_problem(ex, again.transcript, target.timeout, lambda: None):
        return run
    return again


def grade_tokens(ex: Exercise, target: Target, feed: FeedServer) -> ExerciseResult:
    """Every check of the exercise, from two concurrent streams and one left early."""
    run = first = _stream_pair(ex, target, feed, 0, confirming=False)
    found = [response_check(ex, run.transcript, target)]
    hang_up: HangUp | None = None
    if found[0].passed:
        run = _confirmed(ex, target, feed, run)
        if run.call.prompt is not None:
            hang_up = _hang_up_early(ex, target, feed, gated=not _failing(run))
        t, call, expected = run.transcript, run.call, list(run.tokens)
        watch = run.watch.with_alone(hang_up.pongs if hang_up else [])
        found += [
            content_type_check(ex, t),
            prompt_check(call if call.prompt is not None else None, run.prompt),
            events_check(ex, t, expected),
            live_check(call, t, len(expected)),
            *event_chunks_check(t, expected),
            loop_check(watch),
        ]
    result = exercise_result(ex, run.transcript, found)
    result.released = [t - run.transcript.started for t in run.call.released]
    if hang_up is not None:
        result.checks.append(default_prompt_check(hang_up.call, DEFAULT_PROMPT))
        if target.hears_hang_ups():
            result.advice += disconnect_advice(hang_up.call, hang_up.at)
    rule = async_generator_check(
        target.source, target.streamed(), first.wakeups, first.events, filename=ex.filename
    )
    result.checks.insert(0, rule)
    return result


@dataclass(frozen=True)
class HangUp:
    """A request without a prompt that the client left after its first event."""

    call: StreamLog | None  # what its calls to the feed did, when there were any
    at: float  # when the client hung up
    pongs: list[tuple[float, float]]  # pings to the server meanwhile: sent, answered


def _hang_up_early(ex: Exercise, target: Target, feed: FeedServer, *, gated: bool) -> HangUp:
    """Request without a prompt and hang up after the first event.

    Gated, a streaming generator is still waiting for its next token when the client
    leaves, so whether it stops shows. An endpoint already found holding events back
    or blocking its loop is not gated again: it would only stall or block once more.
    """
    reader = StreamReader(sse=True)
    gate = _delivered(reader) if gated else (lambda _k: True)
    turn = feed.open_turn(DEFAULT_PROMPT, tokens(target.seed.value, "default"), gate)
    client = _FeedClock(target.client, feed)
    reader.read(client, ex.path, target.deadline(), stop_after_events=1)
    hung_up = time.monotonic()
    called = feed.wait_called(turn, DISCONNECT_GRACE)
    feed.close_turn(turn)
    feed.wait_answered(turn, PONG_WAIT)  # a ping a blocked loop is still to answer counts too
    if called and target.hears_hang_ups():
        feed.wait_closed(turn, DISCONNECT_GRACE)
    call = turn.log if turn.log.prompt is not None else None
    return HangUp(call, hung_up, list(turn.log.pongs))


def prompt_check(call: StreamLog | None, prompt: str) -> Check:
    """``client.stream`` was called with the request's prompt."""
    if call is None:
        return Check(
            "prompt",
            False,
            "client.stream() was never called: the tokens must come from "
            "client.stream(prompt), read when the request comes in.",
        )
    if call.prompt != prompt:
        return Check(
            "prompt",
            False,
            f"client.stream() was called with {short(call.prompt)}, but the "
            f"request asked for prompt={short(prompt)}: pass the query parameter through. "
            "(The grader's client answers a prompt only in the request that carries it.)",
        )
    return Check("prompt", True, "client.stream() got the prompt of the request.")


def default_prompt_check(call: StreamLog | None, prompt: str) -> Check:
    """Without ?prompt=, the prompt defaults to the contract's default."""
    if call is not None and call.prompt == prompt:
        return Check("default prompt", True, f"Without ?prompt= the prompt is {prompt!r}.")
    got = (
        "client.stream() was not called" if call is None else f"the prompt was {short(call.prompt)}"
    )
    return Check(
        "default prompt",
        False,
        f"Without ?prompt=, {got}; it should default to {prompt!r} "
        f'(declare prompt: str = "{prompt}").',
    )


def live_check(call: StreamLog | None, t: Transcript, total: int) -> Check:
    """The first event reached the client before the last token was produced."""
    if call is None or not call.stalled:
        return Check(
            "streams",
            True,
            "Each token's event reached the client before the next token was produced.",
        )
    first_event = t.started + t.chunks[t.events[0][0]].t if t.events else float("inf")
    produced = sum(1 for released in call.released if released < first_event)
    when = (
        f"the first event came at {(first_event - t.started) * 1000:.0f} ms"
        if t.events
        else "no event came"
    )
    if produced >= total:
        what = f"buffered: nothing was sent until all {total} tokens were produced ({when})."
    else:
        what = (
            f"buffered: the first event reached the client only after {produced} tokens were "
            f"produced ({when})."
        )
    return Check(
        "streams",
        False,
        f"{what.capitalize()} Yield each event as soon as its token arrives, "
        "inside the async for loop, instead of collecting the tokens first.",
    )


def loop_check(watch: LoopWatch) -> Check:
    """The event loop kept serving other requests while the stream was in flight."""
    blocked = watch.blocked_seconds()
    if blocked < BLOCKED_LIMIT:
        return Check(
            "event loop", True, "The event loop kept serving other requests during the stream."
        )
    return Check(
        "event loop",
        False,
        f"The event loop was blocked for {blocked:.1f} s while streaming: two requests at once "
        f"could not advance together (it was held up to {watch.longest():.2f} s at a time). "
        "Something in the async "
        "generator blocks, such as time.sleep() or a synchronous client: await instead "
        "(asyncio.sleep, the async client), so the worker stays free for other requests.",
        details=watch.summary(),
    )


def disconnect_advice(call: StreamLog | None, hung_up: float) -> list[str]:
    """Advice on whether the generator stopped after the client went away (not scored)."""
    if call is None:
        return []
    # The token the generator was already waiting for when the client left is not "more".
    more = sum(1 for t in call.released if t > hung_up) - 1
    if call.closed_at is not None and not call.finished:
        ms = max(0.0, (call.closed_at - hung_up) * 1000)
        return [f"When the client disconnected, the generator stopped within {ms:.0f} ms. Good."]
    if call.finished and more <= 0:
        return []  # every token was taken before the client left: nothing to tell
    if more > 0:
        return [
            f"After the client disconnected, the server went on asking for "
            f"{plural(more, 'more token')}. Let the generator be cancelled (don't catch "
            "asyncio.CancelledError), and clean up in a finally: block."
        ]
    return [
        "When the client disconnected, the generator was not closed at once (it still waits "
        "for its next token). If it holds resources, such as a model stream, release them in a "
        "finally: block so they are freed when it is closed."
    ]


def async_generator_check(
    source: str,
    streamed: list[Streamed] | None,
    wakeups: int | None = None,
    events: int = 0,
    *,
    filename: str = "the module",
) -> Check:
    """GET /tokens streams from an ``async def`` generator, not a sync one run in the threadpool.

    Judged on what the route really iterated (``streamed``, from the probe), each
    function looked up in ``source``, the file as the grader read it before it ran;
    then on ``wakeups``, how often the server's threads besides the event loop's
    woke while ``events`` events were streamed (the kernel's count, read from
    outside): a sync iterator in the threadpool wakes a worker for every event.
    """
    reported = _reported_check(source, streamed, filename)
    if reported.passed and wakeups is not None and events and wakeups >= max(MIN_WAKEUPS, events):
        return _async_rule_failed(
            f"GET /tokens is streamed by code running in worker threads ({wakeups} wake-ups "
            f"of threads other than the event loop's for {events} events): Starlette runs a "
            "sync iterator in a worker thread of its threadpool, where it cannot await "
            "client.stream(); each token must be awaited in an async def generator."
        )
    return reported


def _reported_check(source: str, streamed: list[Streamed] | None, filename: str) -> Check:
    """The rule on what the probe reports, each function looked up in the trusted source."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return Check(ASYNC_RULE, False, f"{filename} line {exc.lineno}: {exc.msg}.")
    if streamed is None:
        return Check(ASYNC_RULE, False, "The server did not say what GET /tokens streamed.")
    if not streamed:
        return _async_rule_failed(
            "GET /tokens returned no StreamingResponse: return one around an async def "
            "generator that yields each token's event."
        )
    for item in streamed:
        node = defined_at(tree, item.name, item.line)
        if item.kind != "async":
            return _async_rule_failed(_not_async(item, node))
        if not (isinstance(node, ast.AsyncFunctionDef) and is_generator(node)):
            return _async_rule_failed(
                f"GET /tokens streams {item.name}(), which is not an async def generator of "
                f"{filename}: stream the tokens from one defined there."
            )
    names = ", ".join(sorted({f"{item.name}()" for item in streamed}))
    return Check(ASYNC_RULE, True, f"GET /tokens streams {names}, an async def generator.")


def _not_async(item: Streamed, node: ast.AST | None) -> str:
    """Why a route that streams a sync iterator (or another object) fails the rule."""
    if isinstance(node, ast.FunctionDef):
        what = f"{item.name}() is a plain def generator, and it is what GET /tokens streams."
    else:
        kind = "a sync iterator" if item.kind == "sync" else "not an async def generator"
        what = f"GET /tokens streams a {item.name} object, {kind}."
    if item.kind == "other":
        return f"{what} Stream the tokens from an async def function that yields."
    return (
        f"{what} Starlette runs a sync iterator in a worker thread of its threadpool, where "
        "it cannot await client.stream(); each token must be awaited."
    )


def _async_rule_failed(message: str) -> Check:
    """A failed async-generator check, pointing at how the generator is defined."""
    return Check(ASYNC_RULE, False, message, nudge=ASYNC_RULE_NUDGE)


EXERCISE = AsyncTokens(
    id="ex3",
    module="ex3_async_tokens",
    title="Sync or async generator?",
    method="GET",
    path="/tokens",
    media_type="text/event-stream",
    hint=(
        "Use an async def generator (async def ...: ... yield ...). Because each token comes "
        "from an awaitable call, an async generator lets you await between yields without "
        "blocking the event loop, keeping the worker free to serve other requests. A plain "
        "def generator can\u2019t await, so it wouldn\u2019t be able to call the async client "
        "correctly."
    ),
    nudges={
        ASYNC_RULE: "Look at how your generator is defined: can it await?",
        "prompt": "Look at the endpoint's parameters and at what you pass to client.stream().",
        "default prompt": "Look at the default value of the endpoint's prompt parameter.",
        "streams": "Look at where your yield sits: does each event leave before the next "
        "token is asked for?",
        "event loop": "Look for a call in your async generator that waits without await.",
    },
    uses_feed=True,
    data_source="client.stream(prompt)",
    data_default=DEFAULT_TOKENS,
)
