"""The grader's client of a sandboxed server: a request's timeout is an absolute deadline.

Each test serves a real Unix socket from a thread that misbehaves the way a
hostile submission can, and times the grader's request with its own clock.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx2
import pytest

from grader.http_client import unix_socket_client
from grader.transcript import StreamReader

TIMEOUT = 1.0
SLACK = 1.0  # a loaded machine may be late to wake the client; never by this much
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"


@contextmanager
def serving(tmp_path: Path, behave: Callable[[socket.socket], None]) -> Iterator[str]:
    """A Unix socket whose every connection is handed to ``behave`` in a thread of its own."""
    path = str(tmp_path / "s.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with suppress(OSError):
                conn, _ = listener.accept()
                threading.Thread(target=_serve, args=(conn, behave, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join()


def _serve(
    conn: socket.socket, behave: Callable[[socket.socket], None], stop: threading.Event
) -> None:
    """Read the request head, then misbehave until the client leaves or the test ends."""
    with conn, suppress(OSError):
        conn.recv(65536)
        while not stop.is_set():
            behave(conn)


def trickle(data: bytes, every: float) -> Callable[[socket.socket], None]:
    """Send ``data`` one byte at a time, ``every`` seconds apart, over and over."""

    def behave(conn: socket.socket) -> None:
        for byte in data:
            conn.sendall(bytes([byte]))
            time.sleep(every)

    return behave


def timed(request: Callable[[], object]) -> tuple[float, BaseException | None]:
    """How long a request took on this clock, and what it raised."""
    started = time.monotonic()
    try:
        request()
    except Exception as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def test_a_trickled_response_head_cannot_outlast_the_deadline(tmp_path):
    with serving(tmp_path, trickle(HEAD, TIMEOUT / 5)) as path:
        client = unix_socket_client(path, TIMEOUT)
        took, error = timed(lambda: client.get("/"))
    assert isinstance(error, httpx2.TimeoutException)
    assert TIMEOUT <= took < TIMEOUT + SLACK


def test_early_hints_sent_forever_cannot_outlast_the_deadline(tmp_path):
    hints = b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n"

    def early_hints(conn: socket.socket) -> None:
        conn.sendall(hints)
        time.sleep(TIMEOUT / 10)

    with serving(tmp_path, early_hints) as path:
        client = unix_socket_client(path, TIMEOUT)
        took, error = timed(lambda: client.get("/"))
    assert isinstance(error, httpx2.TimeoutException)
    assert TIMEOUT <= took < TIMEOUT + SLACK


def test_a_trickled_body_read_as_a_stream_ends_at_the_deadline(tmp_path):
    sent = threading.Event()

    def head_then_trickle(conn: socket.socket) -> None:
        if not sent.is_set():
            conn.sendall(HEAD)
            sent.set()
        conn.sendall(b"1\r\nx\r\n")
        time.sleep(TIMEOUT / 10)

    with serving(tmp_path, head_then_trickle) as path:
        client = unix_socket_client(path, TIMEOUT)
        # A deadline far away: only the client's own deadline can end the read.
        reader = StreamReader(sse=False)
        took, _ = timed(lambda: reader.read(client, "/", time.monotonic() + 60))
    assert reader.transcript.status == 200
    assert reader.transcript.error and "Timeout" in reader.transcript.error
    assert TIMEOUT <= took < TIMEOUT + SLACK


def test_a_full_listen_backlog_cannot_hold_the_client(tmp_path):
    path = str(tmp_path / "full.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(0)  # and never accepts
    queued = []
    with suppress(BlockingIOError):
        while len(queued) < 100:
            waiting = socket.socket(socket.AF_UNIX)
            waiting.setblocking(False)
            queued.append(waiting)
            waiting.connect(path)
    try:
        client = unix_socket_client(path, TIMEOUT)
        took, error = timed(lambda: client.get("/"))
    finally:
        for sock in [*queued, listener]:
            sock.close()
    # A Unix socket with a full backlog refuses a connection made with a timeout at once.
    assert isinstance(error, httpx2.ConnectError | httpx2.ConnectTimeout)
    assert took < TIMEOUT + SLACK


def test_a_shorter_timeout_of_one_request_is_its_own_deadline(tmp_path):
    with serving(tmp_path, trickle(HEAD, TIMEOUT / 10)) as path:
        client = unix_socket_client(path, 60)
        took, error = timed(lambda: client.get("/", timeout=TIMEOUT))
    assert isinstance(error, httpx2.TimeoutException)
    assert TIMEOUT <= took < TIMEOUT + SLACK


@pytest.mark.parametrize("chunks", [1, 3])
def test_a_prompt_server_is_read_whole(tmp_path, chunks):
    answered = threading.local()

    def answer(conn: socket.socket) -> None:
        if getattr(answered, "done", False):
            time.sleep(0.01)
            return
        body = b"".join(b"5\r\nhello\r\n" for _ in range(chunks)) + b"0\r\n\r\n"
        conn.sendall(HEAD + body)
        answered.done = True

    with serving(tmp_path, answer) as path:
        client = unix_socket_client(path, TIMEOUT)
        reply = client.get("/")
    assert reply.status_code == 200
    assert reply.content == b"hello" * chunks
