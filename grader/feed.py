"""The grader's AI client for exercise 3: the grader hands out each token only when it decides to.

The submission's app gets a ``FeedClient`` in place of its ``client``. Each call
to ``client.stream(prompt)`` connects to the grader's ``FeedServer`` over a Unix
socket, says which prompt it was given, then asks for tokens one at a time. The
grader releases token k+1 only once the event for token k has reached the HTTP
client, so an endpoint that collects every token before sending stalls, and the
grader can say exactly that, while a streaming endpoint never waits. All the
evidence (which tokens were handed out, which events arrived) stays on the
grader's side of the socket.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_LINE = 64 * 1024
ACCEPT_POLL = 0.05


class FeedClient:
    """Stands in for the exercise's AI client; its tokens come from the grader."""

    def __init__(self, address: str) -> None:
        self.address = address

    def __repr__(self) -> str:
        return "FeedClient()"

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        """Yield the grader's tokens for ``prompt``, each one awaited."""
        import anyio
        from anyio.streams.buffered import BufferedByteReceiveStream

        async with await anyio.connect_unix(self.address) as conn:
            reader = BufferedByteReceiveStream(conn)
            await conn.send(_line({"prompt": prompt}))
            while True:
                await conn.send(_line({"want": True}))
                reply = json.loads(await reader.receive_until(b"\n", MAX_LINE))
                if "token" not in reply:
                    return
                yield reply["token"]


def _line(message: dict[str, object]) -> bytes:
    """One protocol message: a JSON object on its own line."""
    return json.dumps(message, default=repr).encode() + b"\n"


@dataclass
class StreamLog:
    """What one ``client.stream()`` call did, as seen by the grader."""

    prompt: object = None
    released: list[float] = field(default_factory=list)
    stalled_at: int | None = None
    closed_at: float | None = None
    finished: bool = False

    @property
    def stalled(self) -> bool:
        """True when the grader had to release a token before the previous one was delivered."""
        return self.stalled_at is not None


class FeedServer:
    """Serves tokens to ``FeedClient`` calls, gating each on delivery of the previous one.

    The socket is bound when the server is made (before a sandbox is forked, so
    the child can connect) and served from a thread once entered. ``gate_on``
    names the delivery gate: ``delivered(n, timeout)`` blocks until n events
    reached the client and says whether they did; ``stall_after`` bounds that
    wait before the grader concludes the endpoint is holding events back and
    releases the remaining tokens at once.
    """

    def __init__(self, address: Path, tokens: list[str], stall_after: float) -> None:
        self.address = address
        self.tokens = tokens
        self.stall_after = stall_after
        self.delivered: Callable[[int, float], bool] = lambda _n, _timeout: False
        self.calls: list[StreamLog] = []
        self._stop = threading.Event()
        self._closed = threading.Condition()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(address))
        self._listener.listen(8)
        self._listener.settimeout(ACCEPT_POLL)
        self._thread = threading.Thread(target=self._serve, name="grader-feed", daemon=True)

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._wake()
        self._thread.join()
        self.close()

    def _wake(self) -> None:
        """Connect to our own socket so a waiting accept() returns and sees the stop flag."""
        nudge = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with nudge, contextlib.suppress(OSError):
            nudge.connect(str(self.address))

    def close(self) -> None:
        """Close the listening socket (also when the server was never entered)."""
        self._listener.close()

    def gate_on(self, delivered: Callable[[int, float], bool]) -> None:
        """Gate the tokens of the next calls on this delivery test."""
        self.delivered = delivered

    def wait_for_call(self, count: int, timeout: float) -> bool:
        """Wait until more than ``count`` calls were made; say whether they were."""
        with self._closed:
            return self._closed.wait_for(lambda: len(self.calls) > count, timeout)

    def wait_closed(self, timeout: float) -> StreamLog | None:
        """Wait until the latest call's generator was closed; return its log."""
        with self._closed:
            self._closed.wait_for(lambda: self.calls and self.calls[-1].closed_at, timeout)
        return self.calls[-1] if self.calls else None

    def _serve(self) -> None:
        """Accept calls until stopped, each served by a thread of its own.

        Calls are served side by side so that a generator left open by its app (never
        closed, never reading again) cannot keep the next call from being answered.
        """
        callers: list[threading.Thread] = []
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            if self._stop.is_set():
                conn.close()
                break
            log = StreamLog()
            with self._closed:
                self.calls.append(log)
                self._closed.notify_all()
            caller = threading.Thread(target=self._serve_connection, args=(conn, log), daemon=True)
            caller.start()
            callers.append(caller)
        for caller in callers:
            caller.join()

    def _serve_connection(self, conn: socket.socket, log: StreamLog) -> None:
        """Serve one call, then note when it ended."""
        with conn:
            conn.setblocking(True)
            self._serve_call(conn, log)
        with self._closed:
            log.closed_at = time.monotonic()
            self._closed.notify_all()

    def _serve_call(self, conn: socket.socket, log: StreamLog) -> None:
        """Run the protocol of one call: read its prompt, then answer each request for a token."""
        for line in self._lines(conn):
            message = json.loads(line)
            if "prompt" in message:
                log.prompt = message["prompt"]
            elif not self._answer(conn, log):
                return

    def _lines(self, conn: socket.socket) -> Iterator[bytes]:
        """The lines a call sends, until it hangs up, misbehaves or the server stops."""
        buffer = b""
        while not self._stop.is_set():
            while b"\n" in buffer:
                line, _, buffer = buffer.partition(b"\n")
                yield line
            if not select.select([conn], [], [], ACCEPT_POLL)[0]:
                continue  # nothing asked yet: look at the stop flag again
            try:
                data = conn.recv(MAX_LINE)
            except OSError:
                return
            if not data or len(buffer) > MAX_LINE:
                return
            buffer += data

    def _answer(self, conn: socket.socket, log: StreamLog) -> bool:
        """Send the next token, waiting for the previous one's delivery first; False at the end."""
        k = len(log.released)
        if k >= len(self.tokens):
            log.finished = True
            return _send(conn, {"end": True})
        if k > 0 and log.stalled_at is None and not self.delivered(k, self.stall_after):
            log.stalled_at = k
        log.released.append(time.monotonic())
        return _send(conn, {"token": self.tokens[k]})


def _send(conn: socket.socket, message: dict[str, object]) -> bool:
    """Send one message; False when the other side has gone."""
    try:
        conn.sendall(_line(message))
    except OSError:
        return False
    return True
