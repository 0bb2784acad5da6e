"""The grader's socket feed: the data a submission streams, handed out only when the grader decides.

Exercise 3's app gets a ``FeedClient`` in place of its AI ``client``; exercise 4's
gets a log store on the same feed. Each call to ``client.stream(prompt)`` opens
a connection of its own to the grader's ``FeedServer``, says which prompt it
was given, then asks for tokens one at a time. The connection is read by the
server's event loop itself, which acknowledges each token and answers the
grader's pings (one every ``settings.PING_GAP`` while the request is in flight)
as the data arrives, before any code of the submission runs. All the evidence
(which prompts were presented, which tokens were handed out and when, how late
each acknowledgement and ping answer came) stays on the grader's side, for the
exercises that use the feed and ``grader.loopwatch``.

Reaching the feed. The server inherits one end of a socket pair made for its
sandbox alone; a call makes a fresh socket pair and passes one end over it
(SCM_RIGHTS). No path, no abstract name: another sandbox has nothing to connect
to. The grader's side never blocks: one thread per feed waits on a selector,
every socket is non-blocking, a sandbox may keep at most ``MAX_OPEN`` connections
open (the surplus is closed at once) and pass ``MAX_CALLS`` in all (then the feed
stops listening), and a line longer than ``MAX_LINE``, a reply it does not read
or anything but the protocol ends that connection.

Matching calls to requests. Before each /tokens request the grader opens a
``Turn`` with a prompt no other request shares, so a call that presents it
belongs to that request and to no other. Token k of a turn is released, to
whichever of its calls asks, only once k events of that request reached the
grader's HTTP client; a call asking earlier waits up to ``stall_after``, and the
turn is then marked stalled. So a decoy call cannot stand in for the real one:
however many calls present the prompt, the token sequence advances only as the
client receives events. A call with a prompt no open turn has is answered
"end" at once and remembered, for the feedback.

Waking. The serving thread sleeps until something can change: a message from a
call, a socket with room for replies that waited, a ping falling due, a waiting
call reaching ``stall_after``, the time a turn's ``opens_at`` names, or a
``wake()``. Whoever makes a gate open otherwise (the grader's HTTP client
recording an event) calls ``wake()``: ``WakingClient`` does it after each chunk
its reader took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from grader import settings

if TYPE_CHECKING:
    from grader.transcript import StreamingClient

MAX_LINE = 8 * 1024  # one protocol message; a prompt is far shorter
MAX_PROMPT = 1024  # characters of a presented prompt kept for the feedback
MAX_OPEN = 8  # connections one sandbox may hold open at once
MAX_CALLS = 64  # connections one sandbox may make in all
ACCEPT_BATCH = 16  # connections taken at a time before the other sockets get a turn
MAX_PENDING = 64 * 1024  # bytes of replies waiting for a client that does not read
CALL = b"call"
WANT = b'{"want": true}\n'
ACK = b'{"ack": true}\n'
PING = b'{"ping": true}'
PONG = b'{"pong": true}\n'

Gate = Callable[[int], bool]
# When the gate of token k opens by itself (on the monotonic clock), when it does.
Opening = Callable[[int], float | None]


class FeedClient:
    """Stands in for the exercise's AI client; its tokens come from the grader."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __repr__(self) -> str:
        return "FeedClient()"

    def _connect(self) -> socket.socket:
        """A new connection to the grader: one end of a fresh pair, the other passed over."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with theirs, socket.socket(fileno=os.dup(self.fd)) as control:
            control.setblocking(False)  # a feed that takes no more calls fails this one at once
            try:
                socket.send_fds(control, [CALL], [theirs.fileno()])
            except OSError as exc:
                ours.close()
                raise ConnectionError(f"the AI client could not reach its model ({exc})") from None
        return ours

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        """Yield the grader's tokens for ``prompt``, each one awaited."""
        loop = asyncio.get_running_loop()
        transport, session = await loop.create_unix_connection(_Session, sock=self._connect())
        try:
            transport.write(_line({"prompt": prompt}))
            while True:
                transport.write(WANT)
                line = await session.lines.get()
                if not line:
                    raise ConnectionError("the AI client lost its connection to the model")
                reply = json.loads(line)
                if "token" not in reply:
                    return
                yield reply["token"]
        finally:
            with contextlib.suppress(RuntimeError):  # a loop of the caller's own, already closed
                transport.close()


class _Session(asyncio.Protocol):
    """One call's connection, read by the event loop itself as data arrives.

    Pings are answered and tokens acknowledged right there, before any code of
    the submission runs: how late they come is how long the loop was held.
    """

    def __init__(self) -> None:
        self.lines: asyncio.Queue[bytes] = asyncio.Queue()
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        """Keep the transport to answer on."""
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Answer each ping at once, acknowledge each token, queue the rest for the caller."""
        self.buffer += data
        while b"\n" in self.buffer:
            line, _, self.buffer = self.buffer.partition(b"\n")
            if line == PING:
                self.transport.write(PONG)
                continue
            if line.startswith(b'{"token"'):
                self.transport.write(ACK)
            self.lines.put_nowait(line)

    def eof_received(self) -> bool:
        """The grader hung up: the caller's next read says so."""
        self.lines.put_nowait(b"")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: wake a caller still waiting."""
        self.lines.put_nowait(b"")


def _line(message: dict[str, object]) -> bytes:
    """One protocol message: a JSON object on its own line."""
    return json.dumps(message, default=repr).encode() + b"\n"


@dataclass
class StreamLog:
    """What the grader saw of one /tokens request's calls to the feed.

    ``prompt`` is the request's own prompt once a call presented it; before
    that, the first other prompt presented while the request was open.
    """

    prompt: object = None
    released: list[float] = field(default_factory=list)  # when token k was first handed out
    acked: list[float] = field(default_factory=list)  # when the server first said it got token k
    pongs: list[tuple[float, float]] = field(default_factory=list)  # ping sent, answered
    stalled_at: int | None = None
    closed_at: float | None = None
    finished: bool = False
    calls: int = 0  # calls that presented the request's prompt

    @property
    def stalled(self) -> bool:
        """True when a token was released before the previous one's event was delivered."""
        return self.stalled_at is not None


@dataclass
class Turn:
    """One /tokens request as the feed knows it: its secret prompt, tokens and delivery gate."""

    prompt: str
    tokens: tuple[str, ...]
    delivered: Gate  # delivered(k): k events of this request reached the client
    opens_at: Opening | None = None  # a gate that opens with time says when
    log: StreamLog = field(default_factory=StreamLog)
    open: bool = True  # the request is in flight: foreign prompts are noted on it
    live: int = 0  # its calls still connected
    pinging: int = 0  # pings to its calls not answered yet
    # The turns opened beside this one (itself included): none gets its first token before
    # each was asked for one, so their streams overlap however fast the server is.
    together: list[Turn] = field(default_factory=list, repr=False, compare=False)
    # How many turns this process opened: a sandbox forked later must not inherit them.
    opened: ClassVar[int] = 0


@dataclass
class _Call:
    """One connection from the sandbox."""

    sock: socket.socket
    inbox: bytearray = field(default_factory=bytearray)
    outbox: bytearray = field(default_factory=bytearray)
    turn: Turn | None = None
    presented: bool = False
    wants: int = 0
    cursor: int = 0
    waiting_since: float | None = None
    ping_sent: float | None = None
    next_ping: float = 0.0
    blocked: bool = False  # replies wait for room in the socket: watched for writing


class FeedServer:
    """Serves ``FeedClient`` calls of one sandbox, gating each token on delivery of the last."""

    def __init__(self, stall_after: float) -> None:
        self.stall_after = stall_after
        self.turns: list[Turn] = []
        self.received = 0  # descriptors the sandbox passed
        self.refused = 0  # of those, the ones closed unread (beyond the bounds, or no socket)
        self._control, self._child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self._calls: dict[socket.socket, _Call] = {}
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._control, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._serve, name="grader-feed", daemon=True)

    @property
    def child_fd(self) -> int:
        """The descriptor the sandbox inherits: its only way to the feed."""
        return self._child.fileno()

    def forked(self) -> None:
        """Drop this process's copy of the sandbox's end, once the sandbox holds it."""
        self._child.close()

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.wake()
        self._thread.join()
        self.close()

    def close(self) -> None:
        """Close every socket (also when the server was never entered)."""
        for call in list(self._calls.values()):
            self._drop(call)
        self._selector.close()
        for sock in (self._control, self._child, self._wake_r, self._wake_w):
            sock.close()

    def wake(self) -> None:
        """Make the serving thread look at its state (its delivery gates) again now."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b".")

    def open_turn(
        self,
        prompt: str,
        tokens: tuple[str, ...],
        delivered: Gate,
        opens_at: Opening | None = None,
    ) -> Turn:
        """Serve calls presenting ``prompt`` with ``tokens`` from now on, gated on ``delivered``.

        The serving thread looks at a gate again only when woken (``wake()``), when
        a waiting call's ``stall_after`` is up, or at ``opens_at(k)`` for a gate that
        opens with time: from then on ``delivered(k)`` must hold by itself.
        """
        turn = Turn(prompt, tokens, delivered, opens_at)
        Turn.opened += 1
        with self._changed:
            self.turns.append(turn)
        self.wake()
        return turn

    def close_turn(self, turn: Turn) -> None:
        """The request is over: later foreign prompts are not its concern (its calls go on)."""
        with self._changed:
            turn.open = False

    def wait_called(self, turn: Turn, timeout: float) -> bool:
        """Wait until a call presented the turn's prompt; say whether one did."""
        with self._changed:
            return self._changed.wait_for(lambda: turn.log.calls > 0, timeout)

    def wait_closed(self, turn: Turn, timeout: float) -> bool:
        """Wait until every call of the turn hung up; say whether they did."""
        with self._changed:
            return self._changed.wait_for(lambda: turn.log.closed_at is not None, timeout)

    # --- the serving thread ------------------------------------------------------------

    def _serve(self) -> None:
        """Wait on every socket; answer calls; release tokens as their gates open."""
        while not self._stop.is_set():
            timeout = self._timeout()
            for key, events in self._selector.select(timeout):
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                elif key.fileobj is self._control:
                    self._accept()
                elif events & selectors.EVENT_READ:  # a writable one is flushed below
                    self._read(self._calls[key.fileobj])  # type: ignore[index]
            now = time.monotonic()
            for call in list(self._calls.values()):
                self._answer(call)
                if call.sock in self._calls:
                    self._ping(call, now)

    def _timeout(self) -> float | None:
        """How long the selector may wait: until the earliest deadline of a call, if any.

        Anything else that can open a gate or unblock a reply wakes the selector
        itself: a call's message, its socket turning writable, or ``wake()``.
        """
        due = [at for call in self._calls.values() for at in self._deadlines(call)]
        return max(0.0, min(due) - time.monotonic()) if due else None

    def _deadlines(self, call: _Call) -> Iterator[float]:
        """When the call's waiting token may go by itself, and when its next ping is due."""
        turn = call.turn
        if turn is None:
            return
        if call.wants and call.waiting_since is not None and not turn.log.stalled:
            yield call.waiting_since + self.stall_after
            # Token 0 waits on the turns beside it, not on its gate (see _may_release).
            opens = turn.opens_at(call.cursor) if call.cursor and turn.opens_at else None
            if opens is not None:
                yield opens
        if turn.open and call.ping_sent is None:
            yield call.next_ping

    def _accept(self) -> None:
        """Take the connections passed over the control socket, within the bounds.

        Once the sandbox passed ``MAX_CALLS`` descriptors the feed stops listening:
        its later calls fail at once, and a flood costs the grader nothing more.
        """
        for _ in range(ACCEPT_BATCH):  # then look at the stop flag and the other sockets
            try:
                message, fds, _, _ = socket.recv_fds(self._control, 16, 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message, fds = b"", []
            if not message and not fds:  # every process of the sandbox is gone
                self._stop_listening()
                return
            for fd in fds:
                self._adopt(fd)
            if self.received >= MAX_CALLS:
                self._stop_listening()
                return

    def _stop_listening(self) -> None:
        """Take no more calls: the sandbox's end then fails to pass any."""
        self._selector.unregister(self._control)
        self._control.shutdown(socket.SHUT_RDWR)

    def _adopt(self, fd: int) -> None:
        """Serve a passed descriptor when it is a stream socket and the bounds allow it."""
        self.received += 1
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            self.refused += 1
            return
        allowed = len(self._calls) < MAX_OPEN
        if not allowed or sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
            sock.close()
            self.refused += 1
            return
        sock.setblocking(False)
        self._calls[sock] = _Call(sock)
        self._selector.register(sock, selectors.EVENT_READ)

    def _read(self, call: _Call) -> None:
        """Take what a call sent; drop it when it hung up or broke the protocol."""
        try:
            data = call.sock.recv(MAX_LINE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        call.inbox += data
        if not data or not self._parse(call):
            self._drop(call)

    def _parse(self, call: _Call) -> bool:
        """Act on every whole line received; False when the call must be dropped."""
        while b"\n" in call.inbox:
            line, _, rest = bytes(call.inbox).partition(b"\n")
            call.inbox = bytearray(rest)
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
                return False
            if not isinstance(message, dict):
                return False
            if "prompt" in message and not call.presented:
                self._present(call, message["prompt"])
            elif message.get("want") is True and call.presented:
                call.wants += 1
            elif message.get("ack") is True and call.turn is not None:
                self._acknowledge(call.turn, call.cursor - 1)
            elif message.get("pong") is True and call.ping_sent is not None:
                self._pong(call)
            else:
                return False
        return len(call.inbox) <= MAX_LINE

    def _present(self, call: _Call, prompt: object) -> None:
        """Match a call to the open turn whose prompt it presents, or note a foreign prompt."""
        call.presented = True
        call.next_ping = time.monotonic() + settings.PING_GAP  # a quick stream is never pinged
        with self._changed:
            call.turn = next((t for t in self.turns if t.prompt == prompt), None)
            if call.turn is not None:
                call.turn.log.prompt = prompt
                call.turn.log.calls += 1
                call.turn.live += 1
                call.turn.log.closed_at = None
            else:
                shown = prompt[:MAX_PROMPT] if isinstance(prompt, str) else repr(prompt)[:80]
                for turn in self.turns:
                    if turn.open and turn.log.calls == 0 and turn.log.prompt is None:
                        turn.log.prompt = shown
            self._changed.notify_all()

    def _acknowledge(self, turn: Turn, k: int) -> None:
        """Note when token k of a turn was first acknowledged as received."""
        if k == len(turn.log.acked) and k < len(turn.log.released):
            turn.log.acked.append(time.monotonic())

    def _pong(self, call: _Call) -> None:
        """Note how late a ping (sent while the call's request was in flight) was answered."""
        now = time.monotonic()
        if call.turn is not None and call.ping_sent is not None:
            with self._changed:
                call.turn.log.pongs.append((call.ping_sent, now))
                call.turn.pinging -= 1
                self._changed.notify_all()
        call.ping_sent, call.next_ping = None, now + settings.PING_GAP

    def _ping(self, call: _Call, now: float) -> None:
        """Ping a call of a request in flight, one ping at a time."""
        turn = call.turn
        if turn is not None and turn.open and call.ping_sent is None and now >= call.next_ping:
            call.ping_sent = now
            with self._changed:
                turn.pinging += 1
            call.outbox += PING + b"\n"
            self._flush(call)

    def wait_answered(self, turn: Turn, timeout: float) -> bool:
        """Wait until every ping to the turn's calls was answered (or its call ended)."""
        with self._changed:
            return self._changed.wait_for(lambda: turn.pinging == 0, timeout)

    def _answer(self, call: _Call) -> None:
        """Answer the call's oldest request for a token when its gate allows."""
        turn = call.turn
        if call.outbox:
            self._flush(call)
        while call.wants and call.sock in self._calls:
            if turn is None or call.cursor >= len(turn.tokens):
                if turn is not None:
                    turn.log.finished = True
                self._send(call, {"end": True})
            elif self._may_release(call, turn):
                self._release(call, turn)
            else:
                return

    def _may_release(self, call: _Call, turn: Turn) -> bool:
        """True once token ``cursor`` may go; marks the turn stalled when it waited too long."""
        k, now = call.cursor, time.monotonic()
        if turn.log.stalled:
            return True
        if call.waiting_since is None:
            call.waiting_since = now
        if k == 0:  # a server that serves one request at a time still gets its tokens
            started = all(other.log.calls for other in turn.together)
            return started or now - call.waiting_since >= self.stall_after
        if turn.delivered(k):
            return True
        if now - call.waiting_since < self.stall_after:
            return False
        turn.log.stalled_at = k
        return True

    def _release(self, call: _Call, turn: Turn) -> None:
        """Hand token ``cursor`` to the call and note when it first went out."""
        k = call.cursor
        if k == len(turn.log.released):
            turn.log.released.append(time.monotonic())
        call.cursor += 1
        call.waiting_since = None
        self._send(call, {"token": turn.tokens[k]})

    def _send(self, call: _Call, message: dict[str, object]) -> None:
        """Queue one reply and send it; a call that never reads is dropped."""
        call.wants -= 1
        call.outbox += _line(message)
        self._flush(call)

    def _flush(self, call: _Call) -> None:
        """Send what the socket takes now of the queued replies; watch it for room for the rest."""
        try:
            sent = call.sock.send(call.outbox)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._drop(call)
            return
        del call.outbox[:sent]
        if len(call.outbox) > MAX_PENDING:
            self._drop(call)
        elif call.blocked != bool(call.outbox):
            call.blocked = bool(call.outbox)
            writing = selectors.EVENT_WRITE if call.blocked else 0
            self._selector.modify(call.sock, selectors.EVENT_READ | writing)

    def _drop(self, call: _Call) -> None:
        """Close a call and, when it was its turn's last, note when the turn's calls ended."""
        if self._calls.pop(call.sock, None) is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(call.sock)
        call.sock.close()
        turn = call.turn
        if turn is not None:
            with self._changed:
                turn.live -= 1
                turn.pinging -= call.ping_sent is not None
                if turn.live == 0:
                    turn.log.closed_at = time.monotonic()
                self._changed.notify_all()


class WakingClient:
    """A streaming client whose responses wake a feed each time their reader is done with a chunk.

    A delivery gate counts what the reader recorded; the reader records a chunk
    before it asks for the next one or closes the body, so the feed looks at its
    gates again the moment one of them may have opened.
    """

    def __init__(self, client: StreamingClient, feed: FeedServer) -> None:
        self.client = client
        self.feed = feed

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[Any]:
        """Open the request; its body's chunks wake the feed."""
        with self.client.stream(method, url, **kwargs) as response:
            yield _WakingResponse(response, self.feed)

    def get(self, url: str, **kwargs: Any) -> Any:
        """Send a GET request and read the whole response."""
        return self.client.get(url, **kwargs)


class _WakingResponse:
    """A streaming response that wakes the feed after each chunk its reader took."""

    def __init__(self, response: Any, feed: FeedServer) -> None:
        self.response = response
        self.feed = feed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.response, name)

    def iter_raw(self) -> Iterator[bytes]:
        """The body's chunks; the feed is woken once the reader asks for the next or stops."""
        for data in self.response.iter_raw():
            try:
                yield data
            finally:
                self.feed.wake()
