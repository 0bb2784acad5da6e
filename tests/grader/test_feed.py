"""The token feed of exercise 3: real FeedClient calls on asyncio loops talking to a FeedServer.

The client end is the descriptor a sandbox inherits; here the test process
holds it, as in-process grading does. Attacks are made the way a submission
would make them: decoy calls, floods of passed descriptors, calls that never
read, garbage on the wire. The serving thread's sleep is counted by the kernel
(its voluntary context switches): it wakes when a gate may open, not on a clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from grader.feed import (
    CALL,
    MAX_CALLS,
    MAX_OPEN,
    WANT,
    FeedClient,
    FeedServer,
    Turn,
    WakingClient,
)
from grader.in_process import InProcessClient
from grader.loopwatch import thread_wakeups
from grader.transcript import StreamReader

TOKENS = ("Bon", " jour", "  !", " ✓")
PROMPT = "Explain SSE, s'il vous plaît ✓ [nonce]"
LONG_BOUND = 10.0  # a stall bound no gated test should reach
SHORT_BOUND = 0.3  # a stall bound the stall tests wait out
DELIVERY_DELAY = 0.1  # how long after receiving a token the test reports its event delivered
WAIT = 5.0  # bound on every wait for the server's bookkeeping
FLOOD = 1500


class Deliveries:
    """The delivery gate the grader's HTTP client would be: how many events reached it."""

    def __init__(self, feed: FeedServer) -> None:
        self.feed = feed
        self.count = 0
        self.marked: dict[int, float] = {}

    def mark(self, n: int) -> None:
        """Report that n events were delivered, and wake the feed as the grader's client does."""
        self.count = max(self.count, n)
        self.marked.setdefault(n, time.monotonic())
        self.feed.wake()

    def __call__(self, k: int) -> bool:
        return self.count >= k


@dataclass
class Received:
    """What the submission's side got from ``client.stream``: tokens and when each came."""

    tokens: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    """A running feed with a short stall bound."""
    with FeedServer(SHORT_BOUND) as server:
        yield server


def consume(
    feed: FeedServer,
    prompt: str,
    after_each: Callable[[int], None] = lambda _k: None,
    take: int = -1,
) -> Received:
    """Run ``client.stream(prompt)`` on a fresh event loop, as an endpoint would.

    ``after_each(k)`` runs once token k arrived; with ``take`` the loop stops after
    that many tokens and closes the stream early.
    """

    async def run() -> Received:
        received = Received()
        stream = FeedClient(feed.child_fd).stream(prompt)
        try:
            async for token in stream:
                received.tokens.append(token)
                received.times.append(time.monotonic())
                after_each(len(received.tokens))
                if len(received.tokens) == take:
                    break
        finally:
            await stream.aclose()
        return received

    return asyncio.run(asyncio.wait_for(run(), WAIT))


def open_turn(feed: FeedServer, gate: Callable[[int], bool], prompt: str = PROMPT) -> Turn:
    """A turn for one request, with the test's tokens."""
    return feed.open_turn(prompt, TOKENS, gate)


def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``condition`` until it holds or time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# --- gating --------------------------------------------------------------------------------


def test_a_token_is_released_only_once_the_previous_event_was_delivered() -> None:
    with FeedServer(LONG_BOUND) as feed:
        gate = Deliveries(feed)
        turn = open_turn(feed, gate)

        def deliver_later(k: int) -> None:
            threading.Timer(DELIVERY_DELAY, gate.mark, (k,)).start()

        received = consume(feed, PROMPT, deliver_later)
        assert feed.wait_closed(turn, WAIT)
    assert received.tokens == list(TOKENS)
    for k in range(1, len(TOKENS)):
        assert received.times[k] >= gate.marked[k], f"token {k + 1} came before delivery of {k}"
    assert not turn.log.stalled
    assert turn.log.finished
    assert turn.log.prompt == PROMPT
    assert len(turn.log.released) == len(TOKENS)


def test_an_undelivered_event_stalls_the_turn_after_the_bound(feed: FeedServer) -> None:
    turn = open_turn(feed, Deliveries(feed))
    received = consume(feed, PROMPT)
    assert received.tokens == list(TOKENS)
    assert received.times[1] - received.times[0] >= SHORT_BOUND
    assert turn.log.stalled_at == 1
    # Once stalled, the rest is not held back again: one wait, not one per token.
    assert received.times[-1] - received.times[1] < SHORT_BOUND


def test_a_decoy_call_cannot_stand_in_for_the_real_one(feed: FeedServer) -> None:
    # A buffering endpoint that first makes a decoy call with the request's prompt and
    # closes it, then collects every token in a second call: the tokens still advance
    # only as events arrive, whichever call asks.
    gate = Deliveries(feed)
    turn = open_turn(feed, gate)
    decoy = consume(feed, PROMPT, take=1)
    gate.mark(1)  # the decoy's token went out as an event
    collected = consume(feed, PROMPT)
    assert decoy.tokens == list(TOKENS[:1])
    assert collected.tokens == list(TOKENS)
    assert turn.log.calls == 2
    assert turn.log.stalled_at == 2


def test_many_calls_with_the_prompt_share_one_gated_sequence(feed: FeedServer) -> None:
    turn = open_turn(feed, Deliveries(feed))
    results: list[Received] = []
    callers = [
        threading.Thread(target=lambda: results.append(consume(feed, PROMPT, take=2)))
        for _ in range(4)
    ]
    started = time.monotonic()
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(WAIT)
    assert [r.tokens for r in results] == [list(TOKENS[:2])] * 4
    assert turn.log.stalled_at == 1
    assert time.monotonic() - started >= SHORT_BOUND  # token 2 waited for a delivery


def test_a_foreign_prompt_gets_no_token_and_is_noted_on_the_open_request(
    feed: FeedServer,
) -> None:
    turn = open_turn(feed, Deliveries(feed))
    received = consume(feed, "Say hello")
    assert received.tokens == []
    assert turn.log.prompt == "Say hello"
    assert turn.log.calls == 0
    feed.close_turn(turn)
    consume(feed, "another")
    assert turn.log.prompt == "Say hello"  # a closed request is no longer told


def test_closing_the_generator_early_closes_the_turn(feed: FeedServer) -> None:
    turn = open_turn(feed, Deliveries(feed))
    received = consume(feed, PROMPT, take=1)
    assert feed.wait_closed(turn, WAIT)
    assert received.tokens == list(TOKENS[:1])
    assert turn.log.closed_at is not None
    assert turn.log.closed_at >= turn.log.released[0]
    assert not turn.log.finished


def test_wait_called_says_whether_a_call_presented_the_prompt(feed: FeedServer) -> None:
    turn = open_turn(feed, Deliveries(feed))
    assert not feed.wait_called(turn, 0.1)
    consume(feed, "not it", take=1)
    assert not feed.wait_called(turn, 0.1)
    consume(feed, PROMPT, take=1)
    assert feed.wait_called(turn, WAIT)


# --- bounds: nothing a sandbox sends can stall or swamp the grader ---------------------------


def raw_call(feed: FeedServer, room: int | None = None) -> socket.socket:
    """A call's connection made by hand, as a hostile submission would.

    ``room`` shrinks the send buffer of the feed's end: its replies soon wait for room.
    """
    ours, theirs = socket.socketpair()
    if room is not None:
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, room)
    with theirs, socket.socket(fileno=os.dup(feed.child_fd)) as control:
        socket.send_fds(control, [CALL], [theirs.fileno()])
    return ours


def open_descriptors() -> int:
    """How many file descriptors this process holds."""
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


def test_a_flood_of_calls_is_cut_at_the_bounds_without_threads(feed: FeedServer) -> None:
    threads, descriptors = threading.active_count(), open_descriptors()
    control = socket.socket(fileno=os.dup(feed.child_fd))
    control.setblocking(False)
    sent = 0
    with control:
        for _ in range(FLOOD):
            a, b = socket.socketpair()
            with a, b:
                try:
                    socket.send_fds(control, [CALL], [b.fileno()])
                except BlockingIOError:
                    time.sleep(0.001)  # the grader reads as fast as it can; give it a moment
                    continue
                except OSError:
                    break  # the feed stopped listening
            sent += 1
    assert sent >= MAX_CALLS
    assert wait_until(lambda: feed.received == MAX_CALLS)
    assert threading.active_count() == threads
    assert open_descriptors() <= descriptors + MAX_OPEN + 2
    # The feed still answers: a real call is refused (the sandbox used its calls up), at once.
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        consume(feed, PROMPT)
    assert time.monotonic() - started < WAIT / 2


def test_a_flooding_sandbox_never_blocks_the_grader() -> None:
    # Helpers forked by a submission keep the control socket's queue full; stopping the
    # feed (what the grader does after the exercise) still returns at once.
    feed = FeedServer(SHORT_BOUND)
    feed.__enter__()
    stop = threading.Event()

    def flood() -> None:
        with socket.socket(fileno=os.dup(feed.child_fd)) as control:
            while not stop.is_set():
                a, b = socket.socketpair()
                with a, b, contextlib.suppress(OSError):  # the grader closed its end
                    socket.send_fds(control, [CALL], [b.fileno()])

    flooders = [threading.Thread(target=flood, daemon=True) for _ in range(4)]
    for flooder in flooders:
        flooder.start()
    time.sleep(0.3)
    started = time.monotonic()
    stopper = threading.Thread(target=feed.__exit__, args=(None, None, None))
    stopper.start()
    stopper.join(WAIT)
    stop.set()
    assert not stopper.is_alive(), "stopping the feed hung under a flood"
    assert time.monotonic() - started < 1.0


def test_a_call_that_never_reads_is_dropped_not_waited_on(feed: FeedServer) -> None:
    turn = open_turn(feed, lambda _k: True)
    sock = raw_call(feed)
    with sock:
        sock.sendall(json.dumps({"prompt": PROMPT}).encode() + b"\n")
        wants = (json.dumps({"want": True}).encode() + b"\n") * 1000
        deadline = time.monotonic() + WAIT
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while turn.log.closed_at is None and time.monotonic() < deadline:
                sock.settimeout(0.05)  # ask for ever more tokens, never read a reply
                with contextlib.suppress(TimeoutError):
                    sock.sendall(wants)
    assert feed.wait_closed(turn, WAIT)


@pytest.mark.parametrize(
    "garbage",
    [
        b"not json\n",
        b"[42]\n",
        b'{"want": true}\n',
        b"x" * 20_000,
        b'{"prompt": 1}\n{"x": 1}\n',
        b"[" * 4000 + b"\n",
    ],
    ids=[
        "not json",
        "not an object",
        "want before prompt",
        "endless line",
        "unknown message",
        "nested too deep",
    ],
)
def test_garbage_on_a_call_ends_that_call(feed: FeedServer, garbage: bytes) -> None:
    sock = raw_call(feed)
    with sock:
        sock.settimeout(WAIT)
        sock.sendall(garbage)
        with contextlib.suppress(ConnectionResetError):  # hung up on data it did not read
            assert sock.recv(100) == b""  # the grader hung up


def test_a_passed_descriptor_that_is_not_a_stream_socket_is_refused(feed: FeedServer) -> None:
    read_end, write_end = os.pipe()
    try:
        with socket.socket(fileno=os.dup(feed.child_fd)) as control:
            socket.send_fds(control, [CALL], [read_end])
        assert wait_until(lambda: feed.refused == 1)
    finally:
        os.close(read_end)
        os.close(write_end)


# --- nothing to reach from another sandbox -------------------------------------------------


def named_unix_sockets() -> set[str]:
    """The paths of the Unix sockets this network namespace lists."""
    rows = Path("/proc/self/net/unix").read_text().splitlines()[1:]
    return {row.split()[7] for row in rows if len(row.split()) > 7}


def test_the_feed_has_no_address_another_sandbox_could_find() -> None:
    before = named_unix_sockets()
    feed = FeedServer(SHORT_BOUND)
    try:
        assert feed._control.getsockname() in ("", b"")
        with socket.socket(fileno=os.dup(feed.child_fd)) as child:
            assert child.getsockname() in ("", b"")
        assert named_unix_sockets() <= before
    finally:
        feed.close()


def test_the_server_stops_while_a_call_waits_for_its_next_request() -> None:
    feed = FeedServer(LONG_BOUND)
    feed.__enter__()
    open_turn(feed, Deliveries(feed))
    idle = raw_call(feed)
    with idle:
        idle.sendall(json.dumps({"prompt": PROMPT}).encode() + b"\n")
        turn = feed.turns[0]
        assert feed.wait_called(turn, WAIT)
        stopper = threading.Thread(target=feed.__exit__, args=(None, None, None))
        stopper.start()
        stopper.join(WAIT)
        assert not stopper.is_alive(), "FeedServer.__exit__ hung on an idle call"


def test_a_server_never_entered_closes_its_sockets() -> None:
    feed = FeedServer(SHORT_BOUND)
    fd = feed.child_fd
    feed.close()
    with pytest.raises(OSError):
        os.fstat(fd)


# --- pings and acknowledgements: answered by the loop itself --------------------------------

BLOCK = 0.2


def late(spans: list[tuple[float, float]]) -> list[float]:
    """How late each answer came, in seconds."""
    return [answered - sent for sent, answered in spans]


def test_a_free_loop_answers_pings_and_acknowledges_tokens_at_once() -> None:
    with FeedServer(LONG_BOUND) as feed:
        gate = Deliveries(feed)
        turn = open_turn(feed, gate)

        def slowly(k: int) -> None:  # the generator awaits between tokens: the loop is free
            threading.Timer(BLOCK, gate.mark, (k,)).start()

        consume(feed, PROMPT, slowly)
        feed.close_turn(turn)
        assert feed.wait_answered(turn, WAIT)
    assert len(turn.log.acked) == len(TOKENS)
    assert len(turn.log.pongs) >= 2
    assert max(late(turn.log.pongs)) < BLOCK / 2
    answers = zip(turn.log.released, turn.log.acked, strict=True)
    assert max(ack - sent for sent, ack in answers) < BLOCK / 2


def test_a_blocked_loop_answers_its_pings_late() -> None:
    with FeedServer(LONG_BOUND) as feed:
        gate = Deliveries(feed)
        turn = open_turn(feed, gate)

        def blocking(k: int) -> None:  # time.sleep in the generator: the loop is held
            time.sleep(BLOCK)
            gate.mark(k)

        consume(feed, PROMPT, blocking)
        feed.close_turn(turn)
        assert feed.wait_answered(turn, WAIT)
    assert max(late(turn.log.pongs)) >= BLOCK * 0.75


# --- waking: the serving thread sleeps until a gate may open ---------------------------------
# The turns here are closed before their call comes: a call of a closed turn is not pinged,
# so nothing but what the test names can wake the serving thread.

IDLE = 0.5  # how long a call waits on a closed gate while its wake-ups are counted
MAX_IDLE_WAKEUPS = 10  # a thread that looked at its gates every 10 ms woke some 50 times
LATE = SHORT_BOUND  # how late a token may go after its gate opened (the stall bound is 10 s)
UNREAD = 1000  # requests whose replies fill a small socket buffer, far below MAX_PENDING


def reply(sock: socket.socket) -> dict[str, object]:
    """The next reply of the feed on a raw call."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        assert chunk, "the feed hung up"
        data += chunk
    return json.loads(data)


@contextlib.contextmanager
def took_first_token(feed: FeedServer) -> Iterator[socket.socket]:
    """A raw call that presented the prompt and got token 0."""
    with raw_call(feed) as sock:
        sock.settimeout(WAIT)
        sock.sendall(json.dumps({"prompt": PROMPT}).encode() + b"\n" + WANT)
        assert reply(sock) == {"token": TOKENS[0]}
        yield sock


@contextlib.contextmanager
def waiting_on_a_closed_gate() -> Iterator[tuple[FeedServer, Deliveries, Turn, socket.socket]]:
    """A call that took token 0 and asked for token 1, whose gate is closed, long before a stall.

    By the time this yields, the serving thread took the request and found the gate closed.
    """
    with FeedServer(LONG_BOUND) as feed:
        gate = Deliveries(feed)
        turn = open_turn(feed, gate)
        feed.close_turn(turn)
        with took_first_token(feed) as sock:
            sock.sendall(WANT)
            time.sleep(DELIVERY_DELAY)
            yield feed, gate, turn, sock


def serving_thread_wakeups(feed: FeedServer) -> int:
    """How often the feed's serving thread has gone to sleep and woken, by the kernel's count."""
    counts = thread_wakeups(os.getpid())
    assert counts is not None
    return counts[feed._thread.native_id]


def test_a_gate_opened_with_a_wake_releases_the_next_token_at_once() -> None:
    with waiting_on_a_closed_gate() as (_, gate, turn, sock):
        assert len(turn.log.released) == 1
        gate.mark(1)
        assert reply(sock) == {"token": TOKENS[1]}
    assert turn.log.released[1] - gate.marked[1] < LATE
    assert not turn.log.stalled


def test_a_stall_is_marked_at_the_bound_with_nothing_else_to_wake_the_thread(
    feed: FeedServer,
) -> None:
    turn = open_turn(feed, Deliveries(feed))
    feed.close_turn(turn)
    with took_first_token(feed) as sock:
        asked = time.monotonic()
        sock.sendall(WANT)
        assert reply(sock) == {"token": TOKENS[1]}
        waited = time.monotonic() - asked
    assert turn.log.stalled_at == 1
    assert SHORT_BOUND <= waited < SHORT_BOUND + LATE


def test_a_gate_that_opens_with_time_releases_its_token_then() -> None:
    with FeedServer(LONG_BOUND) as feed:
        start = time.monotonic()

        def opens_at(k: int) -> float:
            return start + k * DELIVERY_DELAY

        turn = feed.open_turn(PROMPT, TOKENS, lambda k: time.monotonic() >= opens_at(k), opens_at)
        feed.close_turn(turn)
        received = consume(feed, PROMPT)
    assert received.tokens == list(TOKENS)
    for k in range(1, len(TOKENS)):
        assert opens_at(k) <= turn.log.released[k] < opens_at(k) + LATE
    assert not turn.log.stalled


def test_a_call_waiting_on_a_closed_gate_leaves_the_serving_thread_asleep() -> None:
    with waiting_on_a_closed_gate() as (feed, gate, _, sock):
        before = serving_thread_wakeups(feed)
        time.sleep(IDLE)
        woke = serving_thread_wakeups(feed) - before
        gate.mark(1)
        assert reply(sock) == {"token": TOKENS[1]}  # it was waiting, and still serves
    assert woke < MAX_IDLE_WAKEUPS, f"the serving thread woke {woke} times in {IDLE} s"


def test_replies_that_waited_for_room_go_out_once_the_call_reads() -> None:
    with FeedServer(LONG_BOUND) as feed:
        feed.close_turn(open_turn(feed, lambda _k: True))
        with raw_call(feed, room=1) as sock:
            sock.settimeout(WAIT)
            sock.sendall(json.dumps({"prompt": PROMPT}).encode() + b"\n" + WANT * UNREAD)
            time.sleep(DELIVERY_DELAY)  # the feed answered what its socket took, and waits
            before = serving_thread_wakeups(feed)
            time.sleep(IDLE)
            woke = serving_thread_wakeups(feed) - before
            replies = [reply(sock) for _ in range(UNREAD)]
    assert replies == [{"token": t} for t in TOKENS] + [{"end": True}] * (UNREAD - len(TOKENS))
    assert woke < MAX_IDLE_WAKEUPS, f"the serving thread woke {woke} times in {IDLE} s"


def token_app(feed: FeedServer) -> FastAPI:
    """Exercise 3's right answer: each token sent as an event as soon as it came."""
    app = FastAPI()
    client = FeedClient(feed.child_fd)

    @app.get("/tokens")
    async def tokens(prompt: str) -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            async for token in client.stream(prompt):
                yield f"data: {token}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def test_the_waking_client_opens_each_gate_as_soon_as_its_event_is_recorded() -> None:
    with FeedServer(LONG_BOUND) as feed:
        reader = StreamReader(sse=True)
        turn = open_turn(feed, lambda k: len(reader.transcript.events) >= k)
        feed.close_turn(turn)
        with InProcessClient(token_app(feed)) as client:
            deadline = time.monotonic() + WAIT
            reader.read(WakingClient(client, feed), "/tokens", deadline, params={"prompt": PROMPT})
    t = reader.transcript
    assert t.event_data() == list(TOKENS)
    assert not turn.log.stalled
    recorded = [t.started + t.chunks[index].t for index, _ in t.events]
    for k in range(1, len(TOKENS)):
        assert turn.log.released[k] - recorded[k - 1] < LATE
