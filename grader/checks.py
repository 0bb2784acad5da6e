"""The checks every exercise shares, on what an HTTP client received.

A check fails with a message a student can act on: it says what was expected,
what came back (its ``repr``) and names the mistake in the student's terms; its
nudge points at what to look at without giving the fixed line (the full hint is
the reports' to show, see grader/hints.py), and its expected and actual values
let a rich report show the difference. The checks particular to one exercise
live in that exercise's module (grader/exercises/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from grader.exercises.base import Exercise
from grader.results import Check
from grader.transcript import MAX_BODY_BYTES, MAX_CHUNKS, MAX_EVENTS, Transcript

EVENT_STREAM = "text/event-stream"
SHOWN = 160  # characters of a repr shown in a message
HTTP_WHITESPACE = " \t\r\n"
TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")  # RFC 9110 token
DIFF_ITEMS = 40  # lines of expected and actual values kept for a side-by-side view
DIFF_CHARS = 300  # characters kept of each of those lines


def short(value: object) -> str:
    """A repr cut to a readable length."""
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 5] + "…" + text[-4:]


def plural(count: int, noun: str) -> str:
    """'1 chunk', '2 chunks'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def shown_lines(items: list[str]) -> tuple[str, ...]:
    """Values cut to what a side-by-side view shows."""
    kept = tuple(item[:DIFF_CHARS] for item in items[:DIFF_ITEMS])
    return (*kept, "…") if len(items) > DIFF_ITEMS else kept


def body_lines(text: str) -> tuple[str, ...]:
    """A body as its lines, each with its line break, for a side-by-side view."""
    return shown_lines(text.splitlines(keepends=True))


def response_check(
    ex: Exercise, t: Transcript, timeout: float, server_error: Callable[[], str | None]
) -> Check:
    """The response came back 200 and ended on its own, in time and whole."""
    problem = response_problem(ex, t, timeout, server_error)
    return Check(
        "response",
        problem is None,
        problem or f"{ex.method} {ex.path} answered 200 and the stream ended.",
    )


def response_problem(
    ex: Exercise, t: Transcript, timeout: float, server_error: Callable[[], str | None]
) -> str | None:
    """Why the response itself failed (status, broken or endless stream), or None."""
    where = f"{ex.method} {ex.path}"
    if t.status is None:
        cause = server_error() or t.error or "no response"
        if "Timeout" in cause:
            return (
                f"{where} sent no response within {timeout:g} s: the endpoint never returned "
                "one. Something in it waits forever or blocks the event loop (time.sleep() "
                "in an async def, say)."
            )
        return f"{where} got no response: {cause}."
    if t.status != 200:
        cause = server_error() if t.status >= 500 else None
        route = (
            f' Is it declared as @app.{ex.method.lower()}("{ex.path}")?' if t.status == 404 else ""
        )
        raised = f" {cause[0].upper()}{cause[1:]}." if cause else ""
        return f"{where} answered {t.status}, expected 200.{route}{raised}"
    if t.too_large and (coding := t.headers.get("content-encoding")):
        return (
            f"{where} sent a {coding}-encoded body that decodes to more than "
            f"{MAX_BODY_BYTES:,} bytes, past what any answer needs. Send only the data asked for."
        )
    if t.too_large:
        last = t.chunks[-1].t if t.chunks else 0.0
        return (
            f"{where} was still sending after {last:.1f} s ({len(t.chunks):,} chunks, "
            f"{len(t.body):,} bytes), past what any answer needs ({MAX_BODY_BYTES:,} bytes, "
            f"{MAX_CHUNKS:,} chunks or {MAX_EVENTS:,} events): the generator never stops. "
            "Loop over the data once, not forever."
        )
    if t.timed_out or (t.error and "timeout" in t.error.lower()):
        return _endless(where, t, timeout)
    cause = server_error()
    if t.error or cause:
        why = cause or f"the connection failed ({t.error})"
        return f"{where}: the stream broke off after {len(t.body)} bytes: {why}."
    return None


def _endless(where: str, t: Transcript, timeout: float) -> str:
    """Explain a response that did not end within the time limit."""
    last = t.chunks[-1].t if t.chunks else 0.0
    if t.chunks and timeout - last < min(1.0, timeout / 4):
        return (
            f"{where} was still sending after {timeout:g} s ({len(t.chunks)} chunks, "
            f"{len(t.body)} bytes): the generator never stops. Loop over the data once, "
            "not forever."
        )
    return (
        f"{where} stalled: nothing arrived for {timeout - last:.1f} s after "
        f"{plural(len(t.chunks), 'chunk')}, and the response never ended. Something in the "
        "generator waits forever."
    )


def content_charset(content_type: str) -> str | None:
    """The charset parameter of a Content-Type as a browser reads it; None when there is none.

    As Chromium reads it (checked against its EventSource by the browser-verdict
    tests): the first well-formed charset parameter counts, its name right before
    the "=" (``charset = x`` is no charset parameter), its value a token or a quoted
    string, spaces around it ignored.
    """
    for parameter in content_type.split(";")[1:]:
        name, equals, value = parameter.lstrip(HTTP_WHITESPACE).partition("=")
        if not equals or name.lower() != "charset":
            continue
        value = value.strip(HTTP_WHITESPACE)
        if value.startswith('"'):
            return value[1:].split('"', 1)[0]
        if TOKEN.fullmatch(value):
            return value
    return None


def refused_charset(content_type: str) -> str | None:
    """The charset that makes a browser refuse an event stream, or None.

    Chromium (third_party/blink/renderer/modules/eventsource/event_source.cc,
    EventSource::DidReceiveResponse) and WebKit accept a text/event-stream
    response only when its charset is absent, empty or "UTF-8" (ASCII case
    aside), and otherwise abort the connection before the first event; the
    WHATWG HTML standard decodes every event stream as UTF-8 whatever it says.
    """
    charset = content_charset(content_type)
    return charset if charset and charset.lower() != "utf-8" else None


def content_type_check(ex: Exercise, t: Transcript) -> Check:
    """The Content-Type is the exercise's media type, with a charset browsers accept."""
    got = t.content_type
    ok = got.split(";")[0].strip().lower() == ex.media_type
    event_stream = ex.media_type == EVENT_STREAM
    refused = refused_charset(got) if ok and event_stream else None
    if refused is not None:
        return Check(
            "content-type",
            False,
            f"Content-Type is {got!r}: Chrome, Edge and Safari refuse an event stream whose "
            f"charset is not utf-8 ({refused!r} here) and fire no event at all, while the "
            "format itself is always UTF-8. Leave the charset out, or make it charset=utf-8.",
        )
    message = (
        f"Content-Type is {got!r}."
        if ok
        else (
            f"Content-Type should be {ex.media_type!r}, got {got!r}. Pass "
            f'media_type="{ex.media_type}" to StreamingResponse.'
            + (" A browser's EventSource refuses any other type." if event_stream else "")
        )
    )
    return Check("content-type", ok, message)


def events_check(ex: Exercise, t: Transcript, expected: list[str]) -> Check:
    """The events a browser fires carry exactly the expected data, as message events."""
    got = t.event_data()
    if got == expected:
        types = {e.event for _, e in t.events}
        if types == {"message"}:
            return Check(
                "events", True, "A browser fires one message event per item, with the right data."
            )
        return Check(
            "events",
            False,
            f"The events have type {sorted(types)!r}: EventSource's onmessage only sees events "
            "without an event: field. Leave event: out.",
            nudge="Look at the fields of each event: which one makes onmessage skip it?",
        )
    why, nudge = _events_problem(ex, t, expected, got)
    head = (
        f"A browser would fire {len(got)} message events with data {short(got)}; "
        f"expected {short(expected)}."
    )
    # The same number of events: compare their data; otherwise what went over the wire.
    per_event = len(got) == len(expected)
    return Check(
        "events",
        False,
        f"{head} {why}",
        nudge=nudge,
        expected=shown_lines(expected) if per_event else body_lines(_wire(expected)),
        actual=shown_lines(got) if per_event else body_lines(t.body.decode("utf-8", "replace")),
    )


def _wire(items: list[str]) -> str:
    """The plainest event stream carrying ``items``: one data line and a blank line each."""
    return "".join(f"data: {item}\n\n" for item in items)


def _events_problem(
    ex: Exercise, t: Transcript, expected: list[str], got: list[str]
) -> tuple[str, str]:
    """Why the parsed events differ from the expected ones, and where to look."""
    ending = (
        "Look at what your generator yields after each message's text: how does a browser "
        "know that one event is over?"
    )
    if not got and t.discarded == "\n".join(expected):
        return "All the messages ran into one event that never ended.", ending
    if not got and (t.discarded is not None or t.unterminated_line):
        return "No event was ever completed: each event must end with a blank line.", ending
    if got == ["\n".join(expected)]:
        return "All the messages ran into one event: nothing ended the first ones.", ending
    if got == [json.dumps(item) for item in expected]:
        return (
            "The data is JSON-encoded (quoted): a browser hands the quotes to the page as "
            "part of the text.",
            "Look at how each item becomes the event's data: what adds the quotes?",
        )
    if ex.data_default and got == list(ex.data_default):
        return (
            f"That is the module's own data: read `{ex.data_source}` when the request comes in.",
            "Look at where your generator gets its items from.",
        )
    if got == [item[1:] if item.startswith(" ") else item for item in expected]:
        return (
            "Leading spaces were eaten: a browser removes one space after 'data:', so a "
            "token's own leading space is lost when nothing is written before it.",
            "Look at the characters between 'data:' and the token in what you yield.",
        )
    return (
        "Send one 'data: ' line per item, then a blank line.",
        "Compare what your generator yields with the expected events, character by character.",
    )


def event_chunks_check(t: Transcript, expected: list[str]) -> list[Check]:
    """Every event arrives in a chunk of its own (no check when no event arrived at all)."""
    return [_event_chunks(t, expected)] if t.events else []


def _event_chunks(t: Transcript, expected: list[str]) -> Check:
    """Every event arrives in a chunk of its own."""
    per_chunk: dict[int, int] = {}
    for index, _ in t.events:
        per_chunk[index] = per_chunk.get(index, 0) + 1
    crowded = {i: n for i, n in per_chunk.items() if n > 1}
    if not crowded:
        return Check("chunks", True, "Each event arrived in a chunk of its own.")
    index, count = max(crowded.items(), key=lambda item: item[1]) if crowded else (0, 0)
    at = (
        f" ({count} events in chunk {index + 1}, at {t.chunks[index].t * 1000:.1f} ms)"
        if crowded
        else ""
    )
    return Check(
        "chunks",
        False,
        f"{plural(len(t.events), 'event')} arrived in {plural(len(per_chunk), 'chunk')}{at}. "
        "Yield each event as soon as it is ready, one per yield, so the browser can show it "
        "at once.",
    )
