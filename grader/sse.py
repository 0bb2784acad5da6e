"""Read a text/event-stream body exactly the way a browser's EventSource does.

This follows the WHATWG HTML Standard, section "Server-sent events": "Parsing an
event stream" and "Interpreting an event stream". It is written by hand because
the grader must see what a browser sees, and common Python SSE clients differ from
the standard in ways that matter when grading (for example, httpx-sse dispatches
an empty event for a blank line that follows a comment once an `id` has been set,
where a browser dispatches nothing).

Use `EventStreamParser` to feed bytes as they arrive, or `parse_event_stream` for
a whole body. After `close()`, the parser records what a browser would silently
drop: an event whose blank line never came (`discarded`) and text after the last
line break (`unterminated_line`).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_EVENT_TYPE = "message"
CR = "\r"
LF = "\n"
# "utf-8-sig" is UTF-8 that strips one leading byte order mark, only at the very
# start of the stream, which is what the standard's "UTF-8 decode" does.
STREAM_ENCODING = "utf-8-sig"


@dataclass(frozen=True, slots=True)
class Event:
    """One event as a browser dispatches it on an EventSource."""

    data: str
    event: str = DEFAULT_EVENT_TYPE
    id: str = ""


class ParserClosedError(RuntimeError):
    """Raised when bytes are fed to a parser after `close()`."""


class EventStreamParser:
    """Incremental event stream parser that keeps browser semantics.

    Public attributes:
        comments: text of every comment line (after the ':' and one optional space).
        retry: the reconnection time in milliseconds last set by a `retry` field, or None.
        last_event_id: the event source's last event ID string, which a browser would
            send back as Last-Event-ID; it is updated at every blank line.
        discarded: after close(), the data of an event never ended by a blank line
            (what its `data` would have been), or None when nothing was pending.
        unterminated_line: after close(), text after the last line break, which is
            never processed as a line, or None when the stream ended on a line break.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder(STREAM_ENCODING)(errors="replace")
        self._partial_line: list[str] = []
        self._after_cr = False
        self._data: list[str] = []
        self._event_type = ""
        self._id_buffer = ""
        self.comments: list[str] = []
        self.retry: int | None = None
        self.last_event_id = ""
        self.discarded: str | None = None
        self.unterminated_line: str | None = None
        self.closed = False

    def feed(self, chunk: bytes) -> list[Event]:
        """Consume a chunk of the body and return the events it completes, in order."""
        if self.closed:
            raise ParserClosedError("cannot feed an event stream parser after close()")
        return self._feed_text(self._decoder.decode(chunk))

    def close(self) -> list[Event]:
        """End the stream: returns no events, since an incomplete event is discarded."""
        if self.closed:
            return []
        events = self._feed_text(self._decoder.decode(b"", final=True))
        self.closed = True
        leftover = "".join(self._partial_line)
        self.unterminated_line = leftover or None
        self.discarded = LF.join(self._data) if self._data else None
        self._partial_line.clear()
        self._data.clear()
        return events

    def _feed_text(self, text: str) -> list[Event]:
        """Split decoded text into complete lines and process each one."""
        if self._after_cr and text.startswith(LF):
            text = text[1:]  # the LF completes a CRLF whose CR ended the previous chunk
            self._after_cr = False
        if not text:
            return []  # e.g. half of a multi-byte character: wait for the rest
        self._after_cr = text.endswith(CR)
        if CR not in text and LF not in text:
            self._partial_line.append(text)  # no line end yet: nothing to rescan later
            return []
        lines = text.replace(CR + LF, LF).replace(CR, LF).split(LF)
        self._partial_line.append(lines[0])
        lines[0] = "".join(self._partial_line)
        last = lines.pop()
        self._partial_line = [last] if last else []
        events: list[Event] = []
        for line in lines:
            event = self._process_line(line)
            if event is not None:
                events.append(event)
        return events

    def _process_line(self, line: str) -> Event | None:
        """Apply one line; return the event it dispatches, if any."""
        if not line:
            return self._dispatch()
        if line[0] == ":":
            self.comments.append(_without_leading_space(line[1:]))
            return None
        name, colon, value = line.partition(":")
        self._process_field(name, _without_leading_space(value) if colon else "")
        return None

    def _process_field(self, name: str, value: str) -> None:
        """Apply one field; names are compared literally, unknown names are ignored."""
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)

    def _dispatch(self) -> Event | None:
        """Blank line: build the pending event, or nothing when there is no data."""
        self.last_event_id = self._id_buffer
        if not self._data:
            self._event_type = ""
            return None
        # The standard appends "value + LF" per data line and then drops the final LF,
        # which is the same as joining the values with LF.
        event = Event(
            data=LF.join(self._data),
            event=self._event_type or DEFAULT_EVENT_TYPE,
            id=self.last_event_id,
        )
        self._data = []
        self._event_type = ""
        return event


def _without_leading_space(value: str) -> str:
    """Drop exactly one leading U+0020 SPACE, as the standard does for field values."""
    return value[1:] if value[:1] == " " else value


def parse_event_stream(body: bytes | Iterable[bytes]) -> list[Event]:
    """Parse a whole body (or its chunks) and return the events a browser would fire."""
    parser = EventStreamParser()
    chunks = [body] if isinstance(body, bytes | bytearray | memoryview) else body
    events: list[Event] = []
    for chunk in chunks:
        events.extend(parser.feed(bytes(chunk)))
    events.extend(parser.close())
    return events
