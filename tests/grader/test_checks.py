"""The checks of each exercise: small submissions graded in-process, and feedback on given input.

``grade_in_process`` serves a module written to tmp_path through Starlette's
TestClient, so each verdict comes from the real checks on a real response. Where
one message branch is clearer to reach directly, the feedback function gets a
transcript recorded by the real StreamReader from chosen chunks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader import checks
from grader.exercises import EXERCISES, Exercise, ex1_stream_lines, ex2_fix_sse, ex3_async_tokens
from grader.exercises.ex1_stream_lines import DEFAULT_LINES
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import DEFAULT_MESSAGES
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import DEFAULT_PROMPT
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.feed import StreamLog
from grader.grading import Target, grade
from grader.loopwatch import LoopWatch, StreamTimes
from grader.results import Check, Chunk, ExerciseResult
from grader.runner import grade_in_process
from grader.transcript import MAX_BODY_BYTES, MAX_CHUNKS, MAX_EVENTS, StreamReader, Transcript
from tests.grader.helpers import line_of

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 3.0  # per exercise, in-process
SHORT_TIMEOUT = 0.5  # for the endless stream, which uses it all
STALL_TIMEOUT = 1.5  # for the stalled stream: long enough to tell silence from a slow trickle
STALL_BOUND = 8.0  # seconds a child grading a stalled stream may take before it counts as hung
SEED = 20_240_611  # the inputs every in-process grading here draws
LINES = list(ex1_stream_lines.lines(SEED))
MESSAGES = list(ex2_fix_sse.messages(SEED))
TOKENS = list(ex3_async_tokens.tokens(SEED, 0))
PROMPT = ex3_async_tokens.prompt(SEED, (0, 0))

EX1_HEAD = """\
import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]
"""
EX2_HEAD = EX1_HEAD.replace(
    'lines = ["alpha", "beta", "gamma"]', f"messages = {list(DEFAULT_MESSAGES)!r}"
)
EX3_HEAD = """\
import asyncio
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


class FakeAIClient:
    async def stream(self, prompt):
        for token in ("Hello", ",", " world", "!"):
            await asyncio.sleep(0.01)
            yield token


client = FakeAIClient()
app = FastAPI()
"""
ROUTE = """

@app.get("{path}")
{kind} endpoint({params}):
    return StreamingResponse({generator}, media_type="{media_type}")
"""


def module(
    ex: Exercise,
    generator: str,
    *,
    media_type: str | None = None,
    path: str | None = None,
    default_prompt: str = DEFAULT_PROMPT,
) -> str:
    """An exercise module: the usual imports and data, ``generator``'s code, and the endpoint."""
    head = {EX1: EX1_HEAD, EX2: EX2_HEAD, EX3: EX3_HEAD}[ex]
    route = ROUTE.format(
        path=path or ex.path,
        kind="async def" if ex is EX3 else "def",
        params=f'prompt: str = "{default_prompt}"' if ex is EX3 else "",
        generator="gen(prompt)" if ex is EX3 else "gen()",
        media_type=media_type or ex.media_type,
    )
    return head + "\n\n" + textwrap.dedent(generator).strip() + "\n" + route


def grade_source(
    folder: Path, ex: Exercise, source: str, timeout: float = TIMEOUT
) -> ExerciseResult:
    """Write ``source`` as ``ex``'s module in ``folder`` and grade it in-process."""
    (folder / ex.filename).write_text(source, encoding="utf-8")
    return grade_in_process(folder, ex, timeout, seed=SEED)


def failed(result: ExerciseResult) -> dict[str, str]:
    """Failed checks by name -> message."""
    return {c.name: c.message for c in result.failures()}


def recorded(*chunks: str | bytes, sse: bool = True, content_type: str = "") -> Transcript:
    """The transcript the real StreamReader records when these chunks arrive, 10 ms apart."""
    reader = StreamReader(sse=sse)
    for index, data in enumerate(chunks):
        raw = data.encode() if isinstance(data, str) else data
        reader._record(Chunk(0.01 * (index + 1), raw))
    reader._finish()
    reader.transcript.status = 200
    reader.transcript.headers = {"content-type": content_type} if content_type else {}
    return reader.transcript


def sse_stream(items: list[str]) -> list[str]:
    """One right event per item, a chunk each."""
    return [f"data: {item}\n\n" for item in items]


# --- whole exercises in-process -----------------------------------------------------------


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.id)
def test_the_reference_solution_passes_in_process(ex: Exercise) -> None:
    result = grade_in_process(REPO / "solutions", ex, TIMEOUT)
    assert failed(result) == {}
    assert result.passed
    assert result.timeline, "the timeline of the main response is kept"


def test_grading_exercise_3_needs_the_token_feed() -> None:
    with pytest.raises(ValueError, match="token feed"):
        grade(EX3, Target(client=None, timeout=TIMEOUT))  # type: ignore[arg-type]


# --- response ------------------------------------------------------------------------------


def test_a_404_names_the_route_and_skips_the_content_checks(tmp_path: Path) -> None:
    source = module(EX1, 'def gen():\n    yield "x\\n"', path="/line")
    result = grade_source(tmp_path, EX1, source)
    assert [c.name for c in result.checks] == ["response"]
    assert failed(result)["response"] == (
        'GET /lines answered 404, expected 200. Is it declared as @app.get("/lines")?'
    )


def test_a_500_names_the_exception_and_its_line(tmp_path: Path) -> None:
    source = module(EX2, "def gen():\n    return iter(mesages)")
    result = grade_source(tmp_path, EX2, source)
    line = line_of(source, "iter(mesages)")
    assert failed(result) == {
        "response": "GET /messages answered 500, expected 200. The server raised NameError: "
        f"name 'mesages' is not defined (ex2_fix_sse.py line {line})."
    }


def test_a_stream_that_breaks_off_names_the_exception(tmp_path: Path) -> None:
    source = module(
        EX1,
        """
        def gen():
            yield f"{lines[0]}\\n"
            raise ValueError("disk gone")
        """,
    )
    result = grade_source(tmp_path, EX1, source)
    line = line_of(source, "disk gone")
    first = f"{LINES[0]}\n".encode()
    assert failed(result) == {
        "response": f"GET /lines: the stream broke off after {len(first)} bytes: the server "
        f"raised ValueError: disk gone (ex1_stream_lines.py line {line})."
    }
    assert [c.data for c in result.timeline] == [first]


def test_an_endless_stream_is_cut_at_the_timeout(tmp_path: Path) -> None:
    source = module(
        EX1,
        """
        async def gen():
            while True:
                for line in lines:
                    yield f"{line}\\n"
                    await asyncio.sleep(0.01)
        """,
    )
    message = failed(grade_source(tmp_path, EX1, source, SHORT_TIMEOUT))["response"]
    assert message.startswith(f"GET /lines was still sending after {SHORT_TIMEOUT:g} s (")
    assert message.endswith("the generator never stops. Loop over the data once, not forever.")


def test_a_stream_without_end_or_pause_is_cut_at_the_size_cap(tmp_path: Path) -> None:
    source = module(EX1, 'def gen():\n    while True:\n        yield "x" * 65536')
    result = grade_source(tmp_path, EX1, source)
    assert set(failed(result)) == {"response"}
    message = failed(result)["response"]
    assert message.startswith("GET /lines was still sending after ")
    assert f"past what any answer needs ({MAX_BODY_BYTES:,} bytes, {MAX_CHUNKS:,} chunks" in message
    assert message.endswith(
        f"{MAX_EVENTS:,} events): the generator never stops. Loop over the data once, not forever."
    )


STALL_SCRIPT = """
import json, sys
from pathlib import Path
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.runner import grade_in_process
result = grade_in_process(Path(sys.argv[1]), EX1, float(sys.argv[2]))
print(json.dumps({c.name: c.message for c in result.failures()}))
"""


def test_a_stalled_stream_fails_within_the_timeout_in_process(tmp_path: Path) -> None:
    source = module(
        EX1,
        """
        async def gen():
            yield f"{lines[0]}\\n"
            await asyncio.sleep(3600)
        """,
    )
    (tmp_path / EX1.filename).write_text(source, encoding="utf-8")
    command = [sys.executable, "-c", STALL_SCRIPT, str(tmp_path), str(STALL_TIMEOUT)]
    try:
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=STALL_BOUND, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"grade_in_process still waited on a stalled stream after {STALL_BOUND:g} s")
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)["response"]
    assert message.startswith("GET /lines stalled: nothing arrived for")


# --- content-type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ex", "header", "ok"),
    [
        (EX1, "text/plain; charset=utf-8", True),
        (EX1, "Text/Plain", True),
        (EX1, "text/html; charset=utf-8", False),
        (EX1, "", False),
        (EX2, "text/event-stream", True),
        (EX2, "text/event-stream; charset=utf-8", True),
        (EX2, "text/plain; charset=utf-8", False),
        (EX3, "application/x-ndjson", False),
    ],
)
def test_content_type(ex: Exercise, header: str, ok: bool) -> None:
    check = checks.content_type_check(ex, recorded(content_type=header))
    assert check.passed is ok
    if ok:
        assert check.message == f"Content-Type is {header!r}."
    else:
        assert check.message.startswith(f"Content-Type should be {ex.media_type!r}, got {header!r}")
        assert f'media_type="{ex.media_type}"' in check.message
        assert ("EventSource refuses" in check.message) is (ex is not EX1)


def test_a_wrong_media_type_fails_only_content_type(tmp_path: Path) -> None:
    source = module(
        EX1,
        'def gen():\n    for line in lines:\n        yield f"{line}\\n"',
        media_type="text/html",
    )
    assert list(failed(grade_source(tmp_path, EX1, source))) == ["content-type"]


# --- body and chunks (exercise 1) -----------------------------------------------------------


def ended(items: list[str] | tuple[str, ...]) -> list[str]:
    """Each item followed by a newline."""
    return [f"{item}\n" for item in items]


@pytest.mark.parametrize(
    ("chunks", "why"),
    [
        (ended(DEFAULT_LINES), "That is the module's original list"),
        (LINES, "The lines are there but run together"),
        (["\n".join(LINES)], "The last line has no newline"),
        (ended(reversed(LINES)), "Yield each element of `lines` followed by \\n, in order"),
        ([], "Yield each element of `lines` followed by \\n, in order"),
    ],
    ids=["default list", "no newlines", "no last newline", "reversed", "empty"],
)
def test_a_wrong_body_says_what_is_wrong(chunks: list[str], why: str) -> None:
    check = ex1_stream_lines.lines_body_check(recorded(*chunks, sse=False), LINES)
    assert not check.passed
    assert check.message.startswith(f"Expected body {checks.short(''.join(ended(LINES)))}")
    assert why in check.message
    assert_teaches(check, EX1)
    assert "".join(check.expected) == "".join(ended(LINES))
    assert "".join(check.actual) == "".join(chunks)


def test_a_body_that_is_not_utf8_is_shown_not_crashed_on() -> None:
    check = ex1_stream_lines.lines_body_check(
        recorded("naïve\n".encode("latin-1"), sse=False), LINES
    )
    assert not check.passed
    assert "na\ufffdve" in check.message


def test_the_right_body_passes() -> None:
    check = ex1_stream_lines.lines_body_check(recorded(*ended(LINES), sse=False), LINES)
    assert check.passed
    assert check.message == "The body is the grader's lines, each ending in \\n."


@pytest.mark.parametrize(
    ("chunks", "ok"),
    [
        (ended(LINES), True),
        (LINES, True),  # the body check reports the missing newlines
        (ended(DEFAULT_LINES), True),  # one chunk per line; the body check reports the data
        (["".join(ended(LINES))], False),
        (["\n".join(LINES)], False),
        ([text for line in LINES for text in (line, "\n")], False),
        (["".join(ended(LINES[:2])), *ended(LINES[2:])], False),
    ],
    ids=[
        "one per line",
        "one per line without newlines",
        "one per line of other data",
        "whole body",
        "joined once",
        "line and newline apart",
        "two lines together",
    ],
)
def test_chunks_of_exercise_1(chunks: list[str], ok: bool) -> None:
    check = ex1_stream_lines.lines_chunks_check(recorded(*chunks, sse=False), LINES)
    assert check.passed is ok, check.message
    if not ok:
        assert check.message.startswith(f"Expected {len(LINES)} chunks, one per line, got ")


def test_a_plain_text_response_fails_only_chunks(tmp_path: Path) -> None:
    source = EX1_HEAD + textwrap.dedent(
        """
        from fastapi.responses import PlainTextResponse


        @app.get("/lines")
        def endpoint():
            return PlainTextResponse("".join(f"{line}\\n" for line in lines))
        """
    )
    message = failed(grade_source(tmp_path, EX1, source))
    assert list(message) == ["chunks"]
    assert message["chunks"].startswith(f"Expected {len(LINES)} chunks, one per line, got 1: ")


# --- events (exercises 2 and 3) -------------------------------------------------------------


@pytest.mark.parametrize(
    "chunks",
    [
        sse_stream(MESSAGES),
        [f"data:{m}\n\n" for m in MESSAGES],
        [f"data: {m}\r\n\r\n" for m in MESSAGES],
        [f"data: {m}\r\r" for m in MESSAGES],
        [f"id: {i}\nevent: message\nretry: 1000\ndata: {m}\n\n" for i, m in enumerate(MESSAGES)],
        [": keep-alive\n\n", *sse_stream(MESSAGES), ": bye\n\n"],
        ["\ufeff" + sse_stream(MESSAGES)[0], *sse_stream(MESSAGES)[1:]],
        [text for m in MESSAGES for text in ("data: ", f"{m}\n", "\n")],
    ],
    ids=["plain", "no space", "crlf", "cr", "id event retry", "comments", "bom", "split"],
)
def test_spec_valid_events_pass(chunks: list[str]) -> None:
    check = checks.events_check(EX2, recorded(*chunks), MESSAGES)
    assert check.passed, check.message
    assert check.message == "A browser fires one message event per item, with the right data."


def events_message(ex: Exercise, chunks: list[str], expected: list[str]) -> str:
    """The message of a failing events check, which names the mistake without the fix."""
    check = checks.events_check(ex, recorded(*chunks), expected)
    assert not check.passed
    assert_teaches(check, ex)
    return check.message


def assert_teaches(check: Check, ex: Exercise) -> None:
    """A failure names the mistake and where to look, never the fixed line or the full hint."""
    assert check.nudge.startswith(("Look", "Compare"))
    for text in (check.message, check.nudge):
        assert ex.hint not in text
        assert "Hint (lesson 3)" not in text
        assert 'yield f"' not in text and 'f"data: ' not in text


def test_events_diff_shows_the_wire_when_the_events_do_not_line_up() -> None:
    chunks = [f"data: {m}\n" for m in MESSAGES]
    check = checks.events_check(EX2, recorded(*chunks), MESSAGES)
    assert "".join(check.actual) == "".join(chunks)
    assert "".join(check.expected) == "".join(f"data: {m}\n\n" for m in MESSAGES)


def test_events_diff_shows_the_data_when_the_events_line_up() -> None:
    check = checks.events_check(EX3, recorded(*[f"data:{t}\n\n" for t in TOKENS]), TOKENS)
    assert check.expected == tuple(TOKENS)
    assert check.actual == tuple(t.removeprefix(" ") for t in TOKENS)


def test_events_without_blank_lines_never_complete() -> None:
    message = events_message(EX2, [f"data: {m}" for m in MESSAGES], MESSAGES)
    assert message.startswith("A browser would fire 0 message events with data []; expected ")
    assert "No event was ever completed: each event must end with a blank line." in message


def test_a_single_newline_per_event_runs_the_messages_into_one_event() -> None:
    message = events_message(EX2, [f"data: {m}\n" for m in MESSAGES], MESSAGES)
    assert "All the messages ran into one event that never ended." in message


def test_single_newlines_then_one_blank_line_make_one_event() -> None:
    chunks = [*(f"data: {m}\n" for m in MESSAGES), "\n"]
    message = events_message(EX2, chunks, MESSAGES)
    assert "All the messages ran into one event: nothing ended the first ones." in message


def test_json_encoded_data_is_named() -> None:
    chunks = sse_stream([json.dumps(m) for m in MESSAGES])
    message = events_message(EX2, chunks, MESSAGES)
    assert "The data is JSON-encoded (quoted)" in message


@pytest.mark.parametrize(
    ("ex", "own", "source"),
    [
        (EX2, list(DEFAULT_MESSAGES), "`messages`"),
        (EX3, list(ex3_async_tokens.DEFAULT_TOKENS), "`client.stream(prompt)`"),
    ],
)
def test_the_module_s_own_data_is_named(ex: Exercise, own: list[str], source: str) -> None:
    expected = MESSAGES if ex is EX2 else TOKENS
    message = events_message(ex, sse_stream(own), expected)
    assert f"That is the module's own data: read {source} when the request comes in." in message


def test_eaten_leading_spaces_are_explained() -> None:
    message = events_message(EX3, [f"data:{t}\n\n" for t in TOKENS], TOKENS)
    assert "Leading spaces were eaten: a browser removes one space after 'data:'" in message


def test_other_wrong_data_gets_the_general_advice() -> None:
    message = events_message(EX3, sse_stream(TOKENS[::-1]), TOKENS)
    assert "Send one 'data: ' line per item, then a blank line." in message


def test_a_named_event_type_is_refused() -> None:
    chunks = [f"event: update\ndata: {m}\n\n" for m in MESSAGES]
    message = events_message(EX2, chunks, MESSAGES)
    assert message == (
        "The events have type ['update']: EventSource's onmessage only sees events without an "
        "event: field. Leave event: out."
    )


# --- chunks of events -----------------------------------------------------------------------


def test_one_event_per_chunk_passes_even_split_or_with_comments() -> None:
    events = sse_stream(MESSAGES)
    for chunks in (
        events,
        [": hi\n\n", *events],
        [e for event in events for e in (event[:3], event[3:])],
    ):
        found = checks.event_chunks_check(recorded(*chunks), MESSAGES)
        assert [c.passed for c in found] == [True], found


def test_events_sharing_a_chunk_are_counted_and_located() -> None:
    events = sse_stream(MESSAGES)
    chunks = [events[0], "".join(events[1:])]
    (check,) = checks.event_chunks_check(recorded(*chunks), MESSAGES)
    assert not check.passed
    assert check.message.startswith(
        f"{len(MESSAGES)} events arrived in 2 chunks ({len(MESSAGES) - 1} events in chunk 2, "
        "at 20.0 ms). Yield each event as soon as it is ready, one per yield"
    )


def test_no_event_no_chunk_check() -> None:
    assert checks.event_chunks_check(recorded(*(f"data: {m}" for m in MESSAGES)), MESSAGES) == []


def test_fewer_events_each_in_its_chunk_leave_the_count_to_the_events_check() -> None:
    (check,) = checks.event_chunks_check(recorded(*sse_stream(MESSAGES[:2])), MESSAGES)
    assert check.passed, check.message


def test_one_chunk_of_all_events_fails_only_chunks(tmp_path: Path) -> None:
    source = module(EX2, 'def gen():\n    yield "".join(f"data: {m}\\n\\n" for m in messages)')
    message = failed(grade_source(tmp_path, EX2, source))
    assert list(message) == ["chunks"]
    assert message["chunks"].startswith(f"{len(MESSAGES)} events arrived in 1 chunk ")


# --- exercise 3: prompt, streams, event loop, default prompt, advice -------------------------


def test_prompt_check() -> None:
    never = ex3_async_tokens.prompt_check(None, PROMPT)
    assert not never.passed
    assert never.message.startswith("client.stream() was never called")
    other = ex3_async_tokens.prompt_check(StreamLog(prompt=DEFAULT_PROMPT), PROMPT)
    assert not other.passed
    assert other.message.startswith(
        f"client.stream() was called with {DEFAULT_PROMPT!r}, but the request asked for "
        f"prompt={PROMPT!r}"
    )
    assert ex3_async_tokens.prompt_check(StreamLog(prompt=PROMPT), PROMPT).passed


def test_default_prompt_check() -> None:
    assert ex3_async_tokens.default_prompt_check(
        StreamLog(prompt=DEFAULT_PROMPT), DEFAULT_PROMPT
    ).passed
    check = ex3_async_tokens.default_prompt_check(StreamLog(prompt="Say hi"), DEFAULT_PROMPT)
    assert not check.passed
    assert check.message == (
        "Without ?prompt=, the prompt was 'Say hi'; it should default to 'Say hello' "
        '(declare prompt: str = "Say hello").'
    )


def stalled_log(at: int, released: list[float]) -> StreamLog:
    """A call that stalled at token ``at``, its tokens released at these times."""
    return StreamLog(prompt=PROMPT, released=released, stalled_at=at)


def test_live_check_passes_a_call_that_never_stalled() -> None:
    t = recorded(*sse_stream(TOKENS))
    assert ex3_async_tokens.live_check(None, t, len(TOKENS)).passed
    assert ex3_async_tokens.live_check(
        StreamLog(released=[0.0] * len(TOKENS)), t, len(TOKENS)
    ).passed


@pytest.mark.parametrize(
    ("t", "when"),
    [
        (recorded(), "no event came"),
        (recorded(*sse_stream(TOKENS)), "the first event came at 10 ms"),
    ],
    ids=["no event", "events after the last token"],
)
def test_live_check_names_a_stream_held_back_to_the_end(t: Transcript, when: str) -> None:
    # The transcript starts at 0.0 and its first chunk arrives at 10 ms: after every token
    check = ex3_async_tokens.live_check(stalled_log(1, [0.0] * len(TOKENS)), t, len(TOKENS))
    assert not check.passed
    assert check.message.startswith(
        f"Buffered: nothing was sent until all {len(TOKENS)} tokens were produced ({when})."
    )


def test_live_check_counts_the_tokens_produced_before_the_first_event() -> None:
    released = [0.002, 0.004, 0.006, *(0.02 + 0.01 * k for k in range(len(TOKENS) - 3))]
    check = ex3_async_tokens.live_check(
        stalled_log(3, released), recorded(*sse_stream(TOKENS)), len(TOKENS)
    )
    assert not check.passed
    assert check.message.startswith(
        "Buffered: the first event reached the client only after 3 tokens were produced "
        "(the first event came at 10 ms)."
    )


def paired(waits: list[tuple[float, float]]) -> LoopWatch:
    """A loop watch over two streams whose rounds took these waits (first event, then tokens)."""
    streams = []
    for side in (0, 1):
        releases, arrivals, clock = [0.0], [], 0.0
        for k, pair in enumerate(waits):
            if k:
                releases.append(clock)
            arrivals.append(clock + pair[side])
            clock += max(pair) + 0.001
        streams.append(StreamTimes(0.0, releases, arrivals, None))
    return LoopWatch(*streams)


def test_loop_check_counts_only_rounds_the_streams_ran_one_after_the_other() -> None:
    assert ex3_async_tokens.loop_check(paired([(0.01, 0.01)] * 50)).passed
    # both awaited, side by side
    assert ex3_async_tokens.loop_check(paired([(0.5, 0.5)] * 5)).passed
    check = ex3_async_tokens.loop_check(paired([(0.001, 0.001), (0.15, 0.3), (0.15, 0.3)]))
    assert not check.passed
    assert check.message.startswith(
        "The event loop was blocked for 0.3 s while streaming: two requests at once could not "
        "advance together (it was held up to 0.15 s at a time)."
    )
    assert "3 rounds of two concurrent streams" in check.details


def test_disconnect_advice() -> None:
    hung_up = 100.0
    stopped = StreamLog(released=[99.0], closed_at=hung_up + 0.012)
    assert ex3_async_tokens.disconnect_advice(stopped, hung_up) == [
        "When the client disconnected, the generator stopped within 12 ms. Good."
    ]
    # The first token released after the hang-up was already asked for: only later ones count.
    went_on = StreamLog(released=[99.0, 100.5, 100.6, 100.7], finished=True)
    (advice,) = ex3_async_tokens.disconnect_advice(went_on, hung_up)
    assert advice.startswith(
        "After the client disconnected, the server went on asking for 2 more tokens."
    )
    one = StreamLog(released=[99.0, 100.5, 100.6])
    assert "asking for 1 more token." in ex3_async_tokens.disconnect_advice(one, hung_up)[0]
    waiting = StreamLog(released=[99.0, 100.5])
    (advice,) = ex3_async_tokens.disconnect_advice(waiting, hung_up)
    assert "was not closed at once" in advice
    assert (
        ex3_async_tokens.disconnect_advice(StreamLog(released=[99.0], finished=True), hung_up) == []
    )
    assert ex3_async_tokens.disconnect_advice(None, hung_up) == []


EX3_STREAMING = """
async def gen(prompt):
    async for token in client.stream(prompt):
        yield f"data: {token}\\n\\n"
"""


@pytest.mark.parametrize(
    ("generator", "default_prompt", "fails", "fragment"),
    [
        (
            """
            async def gen(prompt):
                tokens = [t async for t in client.stream(prompt)]
                for token in tokens:
                    yield f"data: {token}\\n\\n"
            """,
            DEFAULT_PROMPT,
            ["streams"],
            f"nothing was sent until all {len(TOKENS)} tokens were produced",
        ),
        (
            EX3_STREAMING.replace("client.stream(prompt)", 'client.stream("Say hello")'),
            DEFAULT_PROMPT,
            ["prompt", "events"],
            "client.stream() was called with 'Say hello'",
        ),
        (EX3_STREAMING, "Say hi", ["default prompt"], "the prompt was 'Say hi'"),
        (
            EX3_STREAMING.replace("    yield", "    time.sleep(0.1)\n        yield"),
            DEFAULT_PROMPT,
            ["event loop"],
            "The event loop was blocked for",
        ),
        (
            EX3_STREAMING.replace("async def", "def").replace("async for", "for"),
            DEFAULT_PROMPT,
            ["async generator", "response"],
            "gen() is a plain def generator",
        ),
    ],
    ids=["buffered", "ignores prompt", "wrong default", "time.sleep", "sync generator"],
)
def test_exercise_3_mistakes_in_process(
    tmp_path: Path, generator: str, default_prompt: str, fails: list[str], fragment: str
) -> None:
    source = module(EX3, generator, default_prompt=default_prompt)
    message = failed(grade_source(tmp_path, EX3, source))
    assert sorted(message) == sorted(fails), message
    assert fragment in message[fails[0]]


def test_buffering_only_beside_another_stream_still_fails(tmp_path: Path) -> None:
    # The grader streams twice at once; a server that streams the first and buffers the
    # second is judged on the worse of the two.
    generator = """
    active = 0

    async def gen(prompt):
        global active
        active += 1
        try:
            if active > 1:
                tokens = [t async for t in client.stream(prompt)]
                for token in tokens:
                    yield f"data: {token}\\n\\n"
            else:
                async for token in client.stream(prompt):
                    yield f"data: {token}\\n\\n"
        finally:
            active -= 1
    """
    message = failed(grade_source(tmp_path, EX3, module(EX3, generator)))
    assert list(message) == ["streams"], message


def test_hard_coded_tokens_fail_prompt_and_events_only(tmp_path: Path) -> None:
    generator = """
    async def gen(prompt):
        for token in ["Hello", ",", " world", "!"]:
            await asyncio.sleep(0.01)
            yield f"data: {token}\\n\\n"
    """
    message = failed(grade_source(tmp_path, EX3, module(EX3, generator)))
    assert sorted(message) == ["events", "prompt"], message


def test_partial_buffering_is_not_reported_as_holding_everything(tmp_path: Path) -> None:
    generator = """
    async def gen(prompt):
        batch = []
        async for token in client.stream(prompt):
            batch.append(token)
            if len(batch) == 3:
                for held in batch:
                    yield f"data: {held}\\n\\n"
                batch = []
        for held in batch:
            yield f"data: {held}\\n\\n"
    """
    message = failed(grade_source(tmp_path, EX3, module(EX3, generator)))
    assert list(message) == ["streams"]
    assert "Buffered: the first event reached the client only after 3 tokens" in message["streams"]


def test_no_request_outlasts_the_exercise_deadline() -> None:
    """Each request gets --timeout, but the exercise's requests together end by its deadline."""
    fresh = Target(client=None, timeout=10.0)  # type: ignore[arg-type]
    assert fresh.deadline() - time.monotonic() == pytest.approx(10.0, abs=0.5)
    late = Target(client=None, timeout=10.0, ends_at=time.monotonic() + 1.0)  # type: ignore[arg-type]
    assert late.deadline() - time.monotonic() <= 1.0
