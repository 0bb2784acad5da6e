"""The grader's HTTP client of a sandboxed server: every request is over by an absolute deadline.

httpx2's timeouts are per socket operation: a server that sends its response
head one byte every few seconds, or a 103 Early Hints response every second,
never lets a read time out, and the request lasts as long as the server likes.
Here a request's timeout is a deadline on the grader's clock, fixed when the
request starts: connecting, writing, each read of the head and of the body get
only the time left until then, so nothing the server sends extends it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore2
import httpx2
from httpcore2._backends.base import NetworkStream
from httpcore2._backends.sync import SyncBackend

# The deadline of the request this thread is sending or reading, if any. Each request
# runs in one thread (the checks read a stream, the loop watch pings from another).
_current = threading.local()


class DeadlinePassed(httpcore2.TimeoutException):
    """The request's deadline passed before a socket operation could start."""


def _time_left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of this thread's request deadline."""
    deadline: float | None = getattr(_current, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


@contextlib.contextmanager
def _deadline(deadline: float | None) -> Iterator[None]:
    """Put this thread's socket operations under ``deadline`` for the block."""
    outer = getattr(_current, "deadline", None)
    _current.deadline = deadline
    try:
        yield
    finally:
        _current.deadline = outer


class DeadlineStream(NetworkStream):
    """A connection whose every read and write ends by the current request's deadline."""

    def __init__(self, stream: NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read what arrives before the deadline (httpcore2.ReadTimeout after it)."""
        return self._stream.read(max_bytes, _time_left(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write, giving up at the deadline."""
        self._stream.write(buffer, _time_left(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        """Close the connection."""
        self._stream.close()

    def get_extra_info(self, info: str) -> Any:
        """What the underlying connection knows (its socket, whether it is readable...)."""
        return self._stream.get_extra_info(info)


class DeadlineBackend(SyncBackend):
    """Connections under the request deadline: a full listen backlog cannot hold the grader."""

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> NetworkStream:
        """Connect to a Unix socket, giving up at the deadline."""
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        return DeadlineStream(super().connect_unix_socket(path, left, socket_options))


class _BodyUnderDeadline(httpx2.SyncByteStream):
    """A response body each of whose reads ends by the request's deadline."""

    def __init__(self, body: httpx2.SyncByteStream, deadline: float | None) -> None:
        self._body = body
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._body)
        while True:
            with _deadline(self._deadline):
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._body.close()


def request_timeout(request: httpx2.Request) -> float | None:
    """The longest of a request's timeouts (None: it has none), taken as its whole duration."""
    timeouts = request.extensions.get("timeout") or {}
    given = [value for value in timeouts.values() if value is not None]
    return max(given) if given else None


class DeadlineTransport(httpx2.HTTPTransport):
    """HTTP/1.1 over a Unix socket; a request's timeout is the time its whole exchange may take."""

    def __init__(self, uds: str) -> None:
        # verify=False: no TLS on a Unix socket, and loading CA certificates costs ~60 ms.
        super().__init__(uds=uds, verify=False)
        self._pool = httpcore2.ConnectionPool(uds=uds, network_backend=DeadlineBackend())

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send the request and return its response, both under the request's deadline."""
        timeout = request_timeout(request)
        deadline = None if timeout is None else time.monotonic() + timeout
        with _deadline(deadline):
            response = super().handle_request(request)
        assert isinstance(response.stream, httpx2.SyncByteStream)
        response.stream = _BodyUnderDeadline(response.stream, deadline)
        return response


def unix_socket_client(path: str, timeout: float) -> httpx2.Client:
    """An httpx2 client of the server on the Unix socket ``path``; ``timeout`` is absolute."""
    return httpx2.Client(
        transport=DeadlineTransport(path),
        base_url="http://submission",
        timeout=httpx2.Timeout(timeout),
    )
