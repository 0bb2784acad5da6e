"""Tests for grader.sse: the event stream parser must read bodies the way EventSource does.

The example streams and the events they fire are quoted from the WHATWG HTML
Standard, section "Server-sent events".
"""

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi.testclient import TestClient

from grader.sse import Event, EventStreamParser, ParserClosedError, parse_event_stream

BOM = "\ufeff".encode()

SPEC_INTRO = (
    b"data: This is the first message.\n\n"
    b"data: This is the second message, it\n"
    b"data: has two lines.\n\n"
    b"data: This is the third message.\n\n"
)
SPEC_EVENT_TYPES = (
    b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
)
SPEC_STOCK = b"data: YHOO\ndata: +2\ndata: 10\n\n"
SPEC_FOUR_BLOCKS = (
    b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"
)
SPEC_EMPTY_DATA = b"data\n\ndata\ndata\n\ndata:\n"
SPEC_SPACE_AFTER_COLON = b"data:test\n\ndata: test\n\n"

# Each case: (stream, events a browser fires, data of the event left pending at the end).
SPEC_EXAMPLES: dict[str, tuple[bytes, list[Event], str | None]] = {
    "intro": (
        SPEC_INTRO,
        [
            Event("This is the first message."),
            Event("This is the second message, it\nhas two lines."),
            Event("This is the third message."),
        ],
        None,
    ),
    "event types": (
        SPEC_EVENT_TYPES,
        [Event("73857293", "add"), Event("2153", "remove"), Event("113411", "add")],
        None,
    ),
    "stock": (SPEC_STOCK, [Event("YHOO\n+2\n10")], None),
    "four blocks": (
        SPEC_FOUR_BLOCKS,
        [Event("first event", id="1"), Event("second event"), Event(" third event")],
        None,
    ),
    "four blocks, no final blank line": (
        SPEC_FOUR_BLOCKS[:-1],
        [Event("first event", id="1"), Event("second event")],
        " third event",
    ),
    "empty data": (SPEC_EMPTY_DATA, [Event(""), Event("\n")], ""),
    "space after colon": (SPEC_SPACE_AFTER_COLON, [Event("test"), Event("test")], None),
}

EXTRA_STREAMS = {
    "utf-8": "data: café €5 😀\n\nevent: ünïcode\ndata: ok\n\n".encode(),
    "bom": BOM + SPEC_STOCK,
    "mixed line ends": b"data: a\r\ndata: b\rdata: c\n\r\n: note\r\rid: 9\n\ndata: d\r\r",
    "retry and comments": b": ping\nretry: 3000\ndata: x\n\n:\n\nretry: soon\ndata: y\n\n",
}
ALL_STREAMS = {name: case[0] for name, case in SPEC_EXAMPLES.items()} | EXTRA_STREAMS
LINE_ENDS = {"LF": b"\n", "CRLF": b"\r\n", "CR": b"\r"}


def parse_chunks(chunks: list[bytes]) -> tuple[list[Event], EventStreamParser]:
    """Feed the chunks in order, close, and return all events plus the parser."""
    parser = EventStreamParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    events += parser.close()
    return events, parser


def parse_whole(stream: bytes) -> tuple[list[Event], EventStreamParser]:
    """Parse a stream delivered as one chunk."""
    return parse_chunks([stream])


def parser_state(parser: EventStreamParser) -> tuple[object, ...]:
    """Everything a closed parser reports besides events."""
    return (
        parser.comments,
        parser.retry,
        parser.last_event_id,
        parser.discarded,
        parser.unterminated_line,
    )


# The standard's own examples


@pytest.mark.parametrize("name", list(SPEC_EXAMPLES))
def test_spec_example_fires_the_events_the_standard_describes(name):
    stream, expected, discarded = SPEC_EXAMPLES[name]
    events, parser = parse_whole(stream)
    assert events == expected
    assert parser.discarded == discarded
    assert parser.unterminated_line is None


def test_spec_stock_example_data_splits_into_three_values():
    (event,) = parse_event_stream(SPEC_STOCK)
    assert event.data.split("\n") == ["YHOO", "+2", "10"]
    assert event.event == "message"


def test_spec_four_blocks_comment_and_id_handling():
    _, parser = parse_whole(SPEC_FOUR_BLOCKS)
    assert parser.comments == ["test stream"]
    assert parser.last_event_id == ""  # the bare "id" line reset it


# Chunking never changes the result


@pytest.mark.parametrize("name", list(ALL_STREAMS))
def test_feeding_one_byte_at_a_time_equals_feeding_whole(name):
    stream = ALL_STREAMS[name]
    whole_events, whole_parser = parse_whole(stream)
    events, parser = parse_chunks([stream[i : i + 1] for i in range(len(stream))])
    assert events == whole_events
    assert parser_state(parser) == parser_state(whole_parser)


@pytest.mark.parametrize("name", list(ALL_STREAMS))
def test_every_two_chunk_split_equals_feeding_whole(name):
    stream = ALL_STREAMS[name]
    whole_events, whole_parser = parse_whole(stream)
    for cut in range(len(stream) + 1):
        events, parser = parse_chunks([stream[:cut], stream[cut:]])
        assert events == whole_events, f"split at byte {cut}"
        assert parser_state(parser) == parser_state(whole_parser), f"split at byte {cut}"


def test_events_are_returned_by_the_feed_that_completes_them():
    parser = EventStreamParser()
    assert parser.feed(b"data: one\n") == []
    assert parser.feed(b"\ndata: tw") == [Event("one")]
    assert parser.feed(b"o\n") == []
    assert parser.feed(b"\n") == [Event("two")]
    assert parser.close() == []


def test_empty_chunks_are_harmless():
    events, _ = parse_chunks([b"", b"data: a\r", b"", b"\n", b"", b"\n", b""])
    assert events == [Event("a")]


# Line endings


@pytest.mark.parametrize("name", list(SPEC_EXAMPLES))
@pytest.mark.parametrize("line_end", list(LINE_ENDS))
def test_every_line_ending_gives_the_same_events(name, line_end):
    stream, expected, discarded = SPEC_EXAMPLES[name]
    events, parser = parse_whole(stream.replace(b"\n", LINE_ENDS[line_end]))
    assert events == expected
    assert parser.discarded == discarded


def test_mixed_line_endings():
    events, parser = parse_whole(EXTRA_STREAMS["mixed line ends"])
    assert events == [Event("a\nb\nc"), Event("d", id="9")]
    assert parser.comments == ["note"]


def test_crlf_split_across_chunks_is_one_line_end():
    # Were the LF taken as a second line end, "a" would be dispatched on its own.
    events, _ = parse_chunks([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])
    assert events == [Event("a\nb")]


def test_cr_then_lone_lf_in_later_chunks_are_two_line_ends():
    parser = EventStreamParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []  # completes the CRLF
    assert parser.feed(b"\n") == [Event("a")]  # a blank line of its own


def test_two_crs_make_a_blank_line():
    assert parse_event_stream([b"data: a\r", b"\r"]) == [Event("a")]


def test_only_cr_lf_and_crlf_end_lines():
    # Python's str.splitlines would also split on these; EventSource does not.
    others = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
    (event,) = parse_event_stream(f"data: a{others}b\n\n".encode())
    assert event.data == f"a{others}b"


# Decoding


def test_utf8_character_split_across_chunks():
    text = "data: café €5 😀\n\n"
    encoded = text.encode()
    emoji_start = encoded.index("😀".encode())
    chunks = [encoded[: emoji_start + 1], encoded[emoji_start + 1 : emoji_start + 3]]
    chunks.append(encoded[emoji_start + 3 :])
    events, _ = parse_chunks(chunks)
    assert events == [Event("café €5 😀")]


def test_invalid_utf8_is_replaced_not_fatal():
    events, _ = parse_whole(b"data: a\xffb\xc3\n\n")
    assert events == [Event("a\ufffdb\ufffd")]


def test_truncated_character_at_end_of_stream_is_replaced():
    _, parser = parse_whole(b"data: ok\n\ndata: \xe2\x82")
    assert parser.unterminated_line == "data: \ufffd"


def test_leading_bom_is_stripped_even_when_split():
    assert parse_event_stream(BOM + b"data: a\n\n") == [Event("a")]
    assert parse_event_stream([BOM[:1], BOM[1:2], BOM[2:] + b"data: a\n\n"]) == [Event("a")]


def test_bom_is_stripped_only_once_and_only_at_the_start():
    # A second BOM belongs to the field name, so "\ufeffdata" is an unknown field.
    assert parse_event_stream(BOM + BOM + b"data: a\n\n") == []
    assert parse_event_stream(b"data: a\n\n" + BOM + b"data: b\n\n") == [Event("a")]
    assert parse_event_stream(b"data: " + BOM + b"a\n\n") == [Event("\ufeffa")]


# Fields


def test_multi_line_data_joins_with_lf():
    assert parse_event_stream(b"data: a\ndata:\ndata: c\n\n") == [Event("a\n\nc")]


def test_only_one_space_after_the_colon_is_removed():
    assert parse_event_stream(b"data:  two\n\ndata:\ttab\n\n") == [Event(" two"), Event("\ttab")]


def test_value_is_split_at_the_first_colon_only():
    assert parse_event_stream(b"data: a: b:c\n\n") == [Event("a: b:c")]


def test_line_without_colon_is_a_field_with_empty_value():
    assert parse_event_stream(b"data\n\n") == [Event("")]
    assert parse_event_stream(b"data: x\nevent\n\n") == [Event("x")]


def test_event_type_applies_to_one_event_only():
    stream = b"event: add\ndata: 1\n\ndata: 2\n\nevent: drop\n\ndata: 3\n\n"
    assert parse_event_stream(stream) == [Event("1", "add"), Event("2"), Event("3")]


def test_unknown_and_differently_cased_fields_are_ignored():
    stream = b"Data: no\nDATA: no\n data: no\nfoo: bar\nevent: add\nx\ndata: yes\n\n"
    assert parse_event_stream(stream) == [Event("yes", "add")]


def test_last_event_id_persists_across_events_until_changed():
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\nid\ndata: d\n\n"
    events = parse_event_stream(stream)
    assert [event.id for event in events] == ["1", "1", "2", ""]


def test_id_containing_nul_is_ignored():
    events, parser = parse_whole(b"id: 7\ndata: a\n\nid: 8\x009\ndata: b\n\n")
    assert events == [Event("a", id="7"), Event("b", id="7")]
    assert parser.last_event_id == "7"


def test_id_without_data_updates_last_event_id_but_fires_nothing():
    events, parser = parse_whole(b"id: 5\n\n")
    assert events == []
    assert parser.last_event_id == "5"


def test_id_of_an_unfinished_block_is_not_committed():
    _, parser = parse_whole(b"id: 1\ndata: a\n\nid: 2\ndata: b\n")
    assert parser.last_event_id == "1"
    assert parser.discarded == "b"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1500", 1500),
        ("0", 0),
        ("007", 7),
        ("", None),
        ("15s", None),
        ("-1", None),
        ("1.5", None),
        (" 10", 10),  # the one space after the colon is removed first
        ("  10", None),
        ("١٢", None),  # Arabic-Indic digits are digits, but not ASCII digits
        ("²", None),
    ],
)
def test_retry_accepts_ascii_digits_only(value, expected):
    _, parser = parse_whole(f"retry:{value}\n".encode())
    assert parser.retry == expected


def test_invalid_retry_keeps_the_previous_value():
    _, parser = parse_whole(b"retry: 3000\nretry: soon\n\n")
    assert parser.retry == 3000


# Dispatch and end of stream


def test_blank_line_without_data_dispatches_nothing():
    assert parse_event_stream(b"\n\n\nevent: add\n\n: comment\n\nretry: 5\n\n") == []


def test_id_then_blank_line_dispatches_nothing():
    # Some SSE clients emit an empty event here (the comment after an id); browsers do not.
    stream = (
        b'event: custom\nid: 1\ndata: {"text":"Hello World"}\n\n'
        b": ping\n\n"
        b'event: custom\nid: 2\ndata: {"text":"Goodbye World"}\n\n'
    )
    events, parser = parse_whole(stream)
    assert events == [
        Event('{"text":"Hello World"}', "custom", "1"),
        Event('{"text":"Goodbye World"}', "custom", "2"),
    ]
    assert parser.comments == ["ping"]


def test_last_event_without_blank_line_is_discarded_and_reported():
    events, parser = parse_whole(b"data: one\n\ndata: two\ndata: three\n")
    assert events == [Event("one")]
    assert parser.discarded == "two\nthree"
    assert parser.unterminated_line is None


def test_stream_ending_inside_a_line_reports_the_line():
    events, parser = parse_whole(b"data: one\n\ndata: two\ndata: thr")
    assert events == [Event("one")]
    assert parser.discarded == "two"
    assert parser.unterminated_line == "data: thr"


def test_messages_without_line_breaks_fire_nothing():
    # The broken generator from the lesson's Exercise 2: yield f"data: {msg}".
    body = b"".join(f"data: {msg}".encode() for msg in ("build started", "tests passed"))
    events, parser = parse_whole(body)
    assert events == []
    assert parser.discarded is None
    assert parser.unterminated_line == body.decode()


def test_messages_with_single_newline_merge_and_are_discarded():
    body = b"".join(f"data: {msg}\n".encode() for msg in ("build started", "tests passed"))
    events, parser = parse_whole(body)
    assert events == []
    assert parser.discarded == "build started\ntests passed"


def test_nothing_pending_after_a_clean_end():
    _, parser = parse_whole(SPEC_STOCK)
    assert parser.discarded is None
    assert parser.unterminated_line is None


def test_feed_after_close_raises_and_close_is_idempotent():
    parser = EventStreamParser()
    parser.feed(b"data: a\n")
    assert parser.close() == []
    assert parser.close() == []
    assert parser.discarded == "a"
    with pytest.raises(ParserClosedError, match="after close"):
        parser.feed(b"\n")


def test_parse_event_stream_accepts_bytes_like_and_iterables():
    expected = parse_event_stream(SPEC_INTRO)
    assert parse_event_stream(bytearray(SPEC_INTRO)) == expected
    assert parse_event_stream(memoryview(SPEC_INTRO)) == expected
    assert parse_event_stream(iter([SPEC_INTRO[:10], SPEC_INTRO[10:]])) == expected


# FastAPI's own event stream writer


def build_sse_app() -> FastAPI:
    """An app streaming every kind of item FastAPI's EventSourceResponse encodes."""
    app = FastAPI()

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterator[object]:
        yield ServerSentEvent(comment="stream start")
        yield ServerSentEvent(raw_data="first line\nsecond line", event="greeting", id="a-1")
        yield ServerSentEvent(data={"n": 1, "text": "héllo"}, id="a-2", retry=2500)
        yield {"n": 2}
        yield ServerSentEvent(data="quoted")
        yield ServerSentEvent(comment="keep\nalive")
        yield ServerSentEvent(raw_data="", event="empty")
        yield ServerSentEvent(raw_data=" leading space\r\ncrlf", event="greeting")

    @app.get("/sync", response_class=EventSourceResponse)
    def sync_events() -> Iterator[ServerSentEvent]:
        for i in range(3):
            yield ServerSentEvent(raw_data=f"tick {i}", id=str(i))

    return app


@pytest.fixture(scope="module")
def sse_client() -> Iterator[TestClient]:
    with TestClient(build_sse_app()) as client:
        yield client


def stream_from(client: TestClient, path: str) -> tuple[list[Event], EventStreamParser]:
    """GET an event stream and feed it to a parser chunk by chunk as it is read."""
    parser = EventStreamParser()
    events: list[Event] = []
    with client.stream("GET", path) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.iter_bytes():
            events += parser.feed(chunk)
    events += parser.close()
    return events, parser


def test_fastapi_event_source_response_is_read_like_a_browser(sse_client):
    events, parser = stream_from(sse_client, "/events")
    assert [(event.event, event.id) for event in events] == [
        ("greeting", "a-1"),
        ("message", "a-2"),
        ("message", "a-2"),
        ("message", "a-2"),
        ("empty", "a-2"),
        ("greeting", "a-2"),
    ]
    assert events[0].data == "first line\nsecond line"
    assert json.loads(events[1].data) == {"n": 1, "text": "héllo"}
    assert json.loads(events[2].data) == {"n": 2}
    assert json.loads(events[3].data) == "quoted"
    assert events[4].data == ""
    assert events[5].data == " leading space\ncrlf"
    assert parser.retry == 2500
    assert parser.comments == ["stream start", "keep", "alive"]
    assert parser.discarded is None
    assert parser.unterminated_line is None


def test_fastapi_sync_generator_stream(sse_client):
    events, _ = stream_from(sse_client, "/sync")
    assert events == [Event(f"tick {i}", id=str(i)) for i in range(3)]


def test_fastapi_body_matches_whole_body_parse(sse_client):
    body = sse_client.get("/events").content
    streamed, _ = stream_from(sse_client, "/events")
    assert parse_event_stream(body) == streamed
    assert parse_event_stream([body[i : i + 1] for i in range(len(body))]) == streamed
