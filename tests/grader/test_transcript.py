"""Reading a response chunk by chunk: however the server slices it, the reading is bounded.

The responses come from a real Unix socket served by a thread of this test,
read by the grader's own client of a sandbox.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress
from pathlib import Path

import pytest

from grader.http_client import unix_socket_client
from grader.transcript import MAX_BODY_BYTES, MAX_CHUNKS, MAX_EVENTS, StreamReader, Transcript

FLOOD = 1 << 20


def chunked(pieces: list[bytes], media_type: str) -> bytes:
    """A whole HTTP/1.1 response whose body is sent as these chunks."""
    head = (
        f"HTTP/1.1 200 OK\r\ncontent-type: {media_type}\r\ntransfer-encoding: chunked\r\n\r\n"
    ).encode()
    frames = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    return head + frames + b"0\r\n\r\n"


def read_served(tmp_path: Path, response: bytes, *, sse: bool) -> Transcript:
    """Serve ``response`` once on a Unix socket and read it as the grader does."""
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen()

        def serve() -> None:
            conn, _ = listener.accept()
            with conn, suppress(OSError):
                conn.recv(65536)
                conn.sendall(response)

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        with unix_socket_client(path, 30) as client:
            reader = StreamReader(sse=sse)
            transcript = reader.read(client, "/", time.monotonic() + 30)
        server.join(30)
    return transcript


def test_a_flood_of_one_byte_chunks_is_read_only_up_to_the_chunk_cap(tmp_path):
    transcript = read_served(tmp_path, chunked([b"x"] * FLOOD, "text/plain"), sse=False)
    assert transcript.status == 200
    assert transcript.too_large
    assert len(transcript.chunks) == MAX_CHUNKS + 1
    assert transcript.body == b"x" * (MAX_CHUNKS + 1)


def test_a_flood_of_tiny_events_is_read_only_up_to_the_event_cap(tmp_path):
    tiny_events = [b"data:\n\n" * 1000] * (2 * MAX_EVENTS // 1000)
    transcript = read_served(tmp_path, chunked(tiny_events, "text/event-stream"), sse=True)
    assert transcript.too_large
    assert MAX_EVENTS < len(transcript.events) <= MAX_EVENTS + 1000


def test_a_body_past_the_byte_cap_is_cut(tmp_path):
    pieces = [b"y" * 65536] * (2 * MAX_BODY_BYTES // 65536)
    transcript = read_served(tmp_path, chunked(pieces, "text/plain"), sse=False)
    assert transcript.too_large
    assert MAX_BODY_BYTES <= len(transcript.body) <= MAX_BODY_BYTES + 65536


@pytest.mark.parametrize("count", [1, 3, 50])
def test_a_response_within_the_caps_is_read_whole(tmp_path, count):
    pieces = [f"data: {i}\n\n".encode() for i in range(count)]
    transcript = read_served(tmp_path, chunked(pieces, "text/event-stream"), sse=True)
    assert not transcript.too_large and transcript.error is None
    assert transcript.event_data() == [str(i) for i in range(count)]
    assert [index for index, _ in transcript.events] == list(range(count))
