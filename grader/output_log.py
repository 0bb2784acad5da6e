"""What a sandboxed server prints, kept as its first and last few KiB.

A module may print megabytes, at import or for every event: that is no reason
to fail an exercise, which fails only for what its endpoint does. The server's
``sys.stdout`` and ``sys.stderr`` write through ``HeadTailLog``: the first
HEAD bytes go to the log file as they come, the last TAIL bytes are kept in
memory and rewritten after them, behind a line saying how much was left out.
The file never grows past about HEAD + TAIL bytes, so it stays far below the
server's file-size limit, and the cost of a flood is the submission's own CPU
time. The grader reads the file back with ``read_log``.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

HEAD = 8 * 1024
TAIL = 8 * 1024
BUFFER = 8 * 1024  # bytes Python buffers before a write reaches the file
MARKER = "\n[... {count:,} bytes of output left out ...]\n"


class HeadTailLog(io.RawIOBase):
    """A write-only raw stream onto a log file that keeps the head and the tail of everything."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self.written = 0  # bytes ever written
        self._tail = bytearray()

    def writable(self) -> bool:
        """Always: this is a log."""
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        """Take ``data``; a log never fails its writer (a closed descriptor loses the output)."""
        data = bytes(data)
        start = self.written
        self.written += len(data)
        head = data[: max(0, HEAD - start)]
        with contextlib.suppress(OSError):
            if head:
                os.pwrite(self.fd, head, start)
            if len(head) < len(data):
                self._keep_tail(data[len(head) :])
        return len(data)

    def _keep_tail(self, data: bytes) -> None:
        """Remember the last TAIL bytes and write them after the head and the marker."""
        self._tail += data[-TAIL:]
        del self._tail[:-TAIL]
        left_out = self.written - HEAD - len(self._tail)
        marker = MARKER.format(count=left_out).encode() if left_out else b""
        os.pwrite(self.fd, marker + bytes(self._tail), HEAD)


def text_stream(fd: int) -> io.TextIOWrapper:
    """A text stream like sys.stdout, writing into the log on ``fd`` through a HeadTailLog."""
    buffered = io.BufferedWriter(HeadTailLog(fd), buffer_size=BUFFER)
    return io.TextIOWrapper(buffered, encoding="utf-8", errors="replace", write_through=False)


def read_log(path: Path, limit: int) -> str:
    """The log as text: all of it within ``limit`` bytes, else its start and its end.

    A process writing to the descriptor directly (not through ``sys.stdout``)
    may have grown the file past what ``HeadTailLog`` keeps.
    """
    try:
        with path.open("rb") as log:
            size = os.fstat(log.fileno()).st_size
            if size <= limit:
                return log.read(limit).decode("utf-8", errors="replace")
            start = log.read(limit // 2)
            log.seek(size - limit // 2)
            end = log.read(limit // 2)
    except OSError:
        return ""
    cut = MARKER.format(count=size - len(start) - len(end)).encode()
    return (start + cut + end).decode("utf-8", errors="replace")
