"""The token feed of exercise 3: a real FeedClient on an asyncio loop talking to a FeedServer."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.feed import FeedClient, FeedServer

TOKENS = ["Bon", " jour", "  !"]
PROMPT = "Explain SSE, s'il vous plaît ✓"
LONG_BOUND = 10.0  # a stall bound no gated test should reach
SHORT_BOUND = 0.3  # a stall bound the stall test waits out
DELIVERY_DELAY = 0.2  # how long after receiving a token the test reports its event delivered
WAIT = 5.0  # bound on every wait for the server's bookkeeping


class Deliveries:
    """The delivery gate the grader's HTTP client would be: says when N events reached it."""

    def __init__(self) -> None:
        self.count = 0
        self.asked: list[tuple[int, float]] = []
        self.marked: dict[int, float] = {}
        self._changed = threading.Condition()

    def mark(self, n: int) -> None:
        """Report that n events were delivered."""
        with self._changed:
            self.count = max(self.count, n)
            self.marked[n] = time.monotonic()
            self._changed.notify_all()

    def delivered(self, n: int, timeout: float) -> bool:
        """Wait up to ``timeout`` for n deliveries; say whether they happened."""
        self.asked.append((n, timeout))
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= n, timeout)


@dataclass
class Received:
    """What the submission's side got from ``client.stream``: tokens and when each came."""

    tokens: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


@pytest.fixture
def address() -> Iterator[Path]:
    """A socket path short enough for AF_UNIX, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="feed-") as tmp:
        yield Path(tmp) / "feed.sock"


def consume(
    address: Path, prompt: str, after_each: Callable[[int], None] = lambda _k: None, take: int = -1
) -> Received:
    """Run ``client.stream(prompt)`` on a fresh event loop, as an endpoint would.

    ``after_each(k)`` runs once token k arrived; with ``take`` the loop stops after
    that many tokens and closes the stream early.
    """

    async def run() -> Received:
        received = Received()
        stream = FeedClient(str(address)).stream(prompt)
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


def test_a_token_is_released_only_once_the_previous_event_was_delivered(address: Path) -> None:
    gate = Deliveries()
    with FeedServer(address, TOKENS, LONG_BOUND) as feed:
        feed.gate_on(gate.delivered)

        def deliver_later(k: int) -> None:
            threading.Timer(DELIVERY_DELAY, gate.mark, (k,)).start()

        received = consume(address, PROMPT, deliver_later)
        log = feed.wait_closed(WAIT)
    assert received.tokens == TOKENS
    for k in range(1, len(TOKENS)):
        assert received.times[k] >= gate.marked[k], f"token {k + 1} came before delivery of {k}"
    assert gate.asked == [(1, LONG_BOUND), (2, LONG_BOUND)]
    assert log is not None
    assert log.stalled_at is None
    assert not log.stalled
    assert log.finished
    assert len(log.released) == len(TOKENS)


def test_an_undelivered_event_stalls_the_call_after_the_bound(address: Path) -> None:
    gate = Deliveries()
    with FeedServer(address, TOKENS, SHORT_BOUND) as feed:
        feed.gate_on(gate.delivered)
        received = consume(address, PROMPT)
        log = feed.wait_closed(WAIT)
    assert received.tokens == TOKENS
    assert received.times[1] - received.times[0] >= SHORT_BOUND
    assert gate.asked[0] == (1, SHORT_BOUND)
    assert all(bound <= SHORT_BOUND for _, bound in gate.asked[1:]), gate.asked
    assert log is not None
    assert log.stalled
    assert log.stalled_at == 1
    assert log.finished


def test_the_prompt_is_recorded_as_the_endpoint_passed_it(address: Path) -> None:
    with FeedServer(address, TOKENS, LONG_BOUND) as feed:
        consume(address, PROMPT, take=1)
        consume(address, "second call", take=1)
        feed.wait_closed(WAIT)
        assert [log.prompt for log in feed.calls] == [PROMPT, "second call"]


def test_closing_the_generator_early_sets_closed_at(address: Path) -> None:
    with FeedServer(address, TOKENS, LONG_BOUND) as feed:
        received = consume(address, PROMPT, take=1)
        log = feed.wait_closed(WAIT)
    assert received.tokens == TOKENS[:1]
    assert log is not None
    assert log.closed_at is not None
    assert log.closed_at >= log.released[0]
    assert len(log.released) == 1
    assert not log.finished


def test_wait_for_call_says_whether_a_new_call_came(address: Path) -> None:
    with FeedServer(address, TOKENS, LONG_BOUND) as feed:
        assert not feed.wait_for_call(0, 0.1)
        assert feed.wait_closed(0.1) is None
        consume(address, PROMPT, take=1)
        assert feed.wait_for_call(0, WAIT)
        assert not feed.wait_for_call(1, 0.1)


def test_the_server_stops_while_a_call_waits_for_its_next_request(address: Path) -> None:
    feed = FeedServer(address, TOKENS, LONG_BOUND)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as idle:
        feed.__enter__()
        idle.connect(str(address))
        idle.sendall(b'{"prompt": "then nothing"}\n')
        assert feed.wait_for_call(0, WAIT)
        stopper = threading.Thread(target=feed.__exit__, args=(None, None, None))
        stopper.start()
        stopper.join(WAIT)
        assert not stopper.is_alive(), "FeedServer.__exit__ hung on an idle call"
    assert feed.calls[0].closed_at is not None


def test_a_server_never_entered_closes_its_socket(address: Path) -> None:
    FeedServer(address, TOKENS, LONG_BOUND).close()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe, pytest.raises(OSError):
        probe.connect(str(address))
