"""The probe's answers are read as hostile input: typed, capped, never decompressed.

Each answer comes from a real Unix socket served by a thread of this test, read
by the grader's own client of a sandbox.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import tracemalloc
from contextlib import suppress
from pathlib import Path

import pytest

from grader.grading import Target
from grader.http_client import unix_socket_client
from grader.probe_reply import (
    MAX_ERRORS_REPLY,
    Refused,
    ServerError,
    fetch_json,
    server_errors,
)

BOMB_SIZE = 256 << 20  # what the bomb inflates to


def response(body: bytes, headers: str = "content-type: application/json\r\n") -> bytes:
    """A whole HTTP/1.1 response with this body."""
    head = f"HTTP/1.1 200 OK\r\n{headers}content-length: {len(body)}\r\n\r\n".encode()
    return head + body


def fetch_served(tmp_path: Path, answer: bytes, *, timeout: float = 5.0) -> object:
    """Serve ``answer`` once on a Unix socket and fetch it as the grader fetches the probe's."""
    path = str(tmp_path / "probe.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen()

        def serve() -> None:
            conn, _ = listener.accept()
            with conn, suppress(OSError):
                conn.recv(65536)
                conn.sendall(answer)
                time.sleep(timeout + 1)  # hold the connection: the client must stop by itself

        threading.Thread(target=serve, daemon=True).start()
        with unix_socket_client(path, 30) as client:
            return fetch_json(client, "/__grader__/errors", MAX_ERRORS_REPLY, timeout)


def test_a_well_formed_answer_is_read(tmp_path):
    errors = [{"summary": "raised ValueError: x", "file": "ex1.py", "line": 7, "traceback": ""}]
    answer = fetch_served(tmp_path, response(json.dumps(errors).encode()))
    assert server_errors(answer) == [ServerError("raised ValueError: x", "ex1.py", 7)]


def test_a_gzip_bomb_is_refused_unopened(tmp_path):
    bomb = gzip.compress(bytes(BOMB_SIZE), compresslevel=9)
    assert len(bomb) < MAX_ERRORS_REPLY  # small on the wire: only decoding would make it big
    with pytest.raises(Refused, match="content-encoding 'gzip'"):
        fetch_served(tmp_path, response(bomb, "content-encoding: gzip\r\n"))


def test_an_answer_past_the_size_cap_is_refused(tmp_path):
    with pytest.raises(Refused, match="more than"):
        fetch_served(tmp_path, response(b"[" + b"0," * MAX_ERRORS_REPLY + b"0]"))


def test_an_answer_that_never_ends_is_given_up_at_the_deadline(tmp_path):
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n["
    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        fetch_served(tmp_path, head, timeout=0.5)
    assert "Timeout" in type(raised.value).__name__ or isinstance(raised.value, Refused)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("body", [b"[1, 2", b"[" * 100_000 + b"]" * 100_000])
def test_an_answer_that_is_not_json_is_refused(tmp_path, body):
    with pytest.raises(Refused, match="not JSON"):
        fetch_served(tmp_path, response(body))


SHAPES = [
    [42],
    42,
    "raised",
    {"summary": "x"},
    [{"summary": 42, "file": None, "line": None}],
    [{"summary": "x", "file": ["ex1.py"], "line": 1}],
    [{"summary": "x", "file": "ex1.py", "line": "7"}],
    [{"summary": "x", "file": "ex1.py", "line": True}],
    [None, [], "x"],
]


@pytest.mark.parametrize("answer", SHAPES)
def test_entries_of_any_other_shape_count_as_nothing(answer):
    assert server_errors(answer) == []


def test_the_well_formed_entries_among_garbage_are_kept():
    answer = [42, {"summary": "raised KeyError: 'k'", "file": None, "line": None}]
    assert server_errors(answer) == [ServerError("raised KeyError: 'k'", None, None)]


def serve_forever(tmp_path: Path, answer: bytes) -> str:
    """A Unix socket that answers every request with ``answer``; its path."""
    path = str(tmp_path / "server.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            with conn, suppress(OSError):
                conn.recv(65536)
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return path


@pytest.mark.parametrize("probe", ["server_error", "streamed"])
def test_the_checks_ask_the_probe_without_ever_inflating_a_bomb(tmp_path, probe):
    bomb = gzip.compress(bytes(BOMB_SIZE), compresslevel=9)
    path = serve_forever(tmp_path, response(bomb, "content-encoding: gzip\r\n"))
    with unix_socket_client(path, 5) as client:
        target = Target(client, 5)
        tracemalloc.start()
        try:
            assert getattr(target, probe)() is None
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < BOMB_SIZE // 16  # decoded, the answer alone would take BOMB_SIZE
