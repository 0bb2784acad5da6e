"""Reading one streaming response the way a client sees it: chunk by chunk, with arrival times."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from grader.decoding import ACCEPT_ENCODING, BodyDecoder, DecodedTooLarge
from grader.results import Chunk
from grader.sse import Event, EventStreamParser

MAX_BODY_BYTES = 1 << 20
# A right answer sends a few chunks and events; past these many the grader stops reading,
# so a flood of tiny chunks costs it no more time or memory than a megabyte does.
MAX_CHUNKS = 10_000
MAX_EVENTS = 10_000


class StreamingClient(Protocol):
    """The part of an httpx-style client the checks use (TestClient and httpx2.Client both fit)."""

    def stream(self, method: str, url: str, **kwargs: Any) -> Any:
        """Open a streaming request; a context manager yielding a response."""

    def get(self, url: str, **kwargs: Any) -> Any:
        """Send a GET request and read the whole response."""


@dataclass
class Transcript:
    """What came back for one request: status, headers, timed chunks and, for SSE, the events."""

    started: float = 0.0
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[Chunk] = field(default_factory=list)
    events: list[tuple[int, Event]] = field(default_factory=list)
    discarded: str | None = None
    unterminated_line: str | None = None
    error: str | None = None
    timed_out: bool = False
    too_large: bool = False

    @property
    def body(self) -> bytes:
        """All chunks joined."""
        return b"".join(c.data for c in self.chunks)

    @property
    def content_type(self) -> str:
        """The Content-Type header, or an empty string."""
        return self.headers.get("content-type", "")

    def event_data(self) -> list[str]:
        """The data of every dispatched event, in order."""
        return [event.data for _, event in self.events]


class StreamReader:
    """Reads one response chunk by chunk; other threads may wait until N events have arrived."""

    def __init__(self, *, sse: bool) -> None:
        self.transcript = Transcript()
        self._parser = EventStreamParser() if sse else None
        self._changed = threading.Condition()
        self._done = False
        self._stop_after: int | None = None
        self._stop_when: Callable[[], bool] | None = None

    def read(
        self,
        client: StreamingClient,
        url: str,
        deadline: float,
        *,
        stop_after_events: int | None = None,
        stop: Callable[[], bool] | None = None,
        **kwargs: Any,
    ) -> Transcript:
        """GET ``url``; record the response until it ends, fails, grows too large or time is up.

        The client hangs up early once ``stop_after_events`` events arrived, or when
        ``stop()`` says so after a chunk. The client asks for the compressed codings a
        browser would and it can decode, and records the body decoded, as a browser parses it.
        """
        self._stop_after = stop_after_events
        self._stop_when = stop
        kwargs["headers"] = {"Accept-Encoding": ACCEPT_ENCODING, **kwargs.get("headers", {})}
        start = self.transcript.started = time.monotonic()
        try:
            with client.stream("GET", url, **kwargs) as response:
                self.transcript.status = response.status_code
                self.transcript.headers = {k.lower(): v for k, v in response.headers.items()}
                coding = self.transcript.headers.get("content-encoding", "")
                decoder = BodyDecoder(coding, MAX_BODY_BYTES)
                # A client without read timeouts (TestClient) would wait forever on a stalled
                # stream: close the response at the deadline from another thread.
                timer = threading.Timer(max(0.0, deadline - start), self._expire, (response,))
                timer.daemon = True
                timer.start()
                try:
                    self._consume(response.iter_raw(), decoder, start, deadline)
                finally:
                    timer.cancel()
                    timer.join()  # no thread may outlive a check: sandboxes are forked later
        except Exception as exc:  # a broken stream is a finding, not a grader crash
            self.transcript.error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        finally:
            self._finish()
        return self.transcript

    def _consume(self, raw: Any, decoder: BodyDecoder, start: float, deadline: float) -> None:
        """Record decoded chunks until the body ends, the deadline passes or it grows too large."""
        size = 0
        try:
            for data in raw:
                size += len(data)
                self._record_decoded(decoder.feed(bytes(data)), start)
                if self._too_large(size):
                    self.transcript.too_large = True
                    return
                if self._should_stop(deadline):
                    return
            self._record_decoded(decoder.flush(), start)
        except DecodedTooLarge:
            self.transcript.too_large = True

    def _too_large(self, size: int) -> bool:
        """True once the body passed MAX_BODY_BYTES, MAX_CHUNKS chunks or MAX_EVENTS events."""
        t = self.transcript
        return size > MAX_BODY_BYTES or len(t.chunks) > MAX_CHUNKS or len(t.events) > MAX_EVENTS

    def _should_stop(self, deadline: float) -> bool:
        """True once time is up, enough events arrived, or ``stop()`` says so."""
        if time.monotonic() > deadline:
            self.transcript.timed_out = True
            return True
        if self._stop_after is not None and len(self.transcript.events) >= self._stop_after:
            return True
        return self._stop_when is not None and self._stop_when()

    def _record_decoded(self, data: bytes, start: float) -> None:
        """Record what one raw chunk decoded to; if nothing, a browser saw no chunk either."""
        if data:
            self._record(Chunk(time.monotonic() - start, data))

    def _expire(self, response: Any) -> None:
        """The deadline passed while waiting for a chunk: give up on the response."""
        self.transcript.timed_out = True
        response.close()

    def _record(self, chunk: Chunk) -> None:
        """Append one chunk and the events it completed, then wake the waiters."""
        with self._changed:
            index = len(self.transcript.chunks)
            self.transcript.chunks.append(chunk)
            if self._parser is not None:
                self.transcript.events.extend((index, e) for e in self._parser.feed(chunk.data))
            self._changed.notify_all()

    def _finish(self) -> None:
        """Mark the response as over and remember any event left without its blank line."""
        with self._changed:
            if self._parser is not None:
                self._parser.close()
                self.transcript.discarded = self._parser.discarded
                self.transcript.unterminated_line = self._parser.unterminated_line
            self._done = True
            self._changed.notify_all()

    def wait_events(self, count: int, timeout: float) -> bool:
        """Block until ``count`` events arrived (True), or the response ended or time ran out."""
        with self._changed:
            return (
                self._changed.wait_for(
                    lambda: len(self.transcript.events) >= count or self._done, timeout
                )
                and len(self.transcript.events) >= count
            )

    @property
    def done(self) -> bool:
        """True once the response is over."""
        return self._done
