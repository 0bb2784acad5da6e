"""Exercise 3's async-generator rule, judged on what the /tokens route really streamed.

Whole modules are served through the grader's probe (in-process, and once in a
sandbox), so the records the rule reads are the ones a server writes; the
record parsing and the lookup in the trusted source are tested on their own too.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.exercises.ex3_async_tokens import async_generator_check
from grader.results import ExerciseResult
from grader.runner import grade_in_process, grade_submission
from grader.sandbox import Limits
from grader.sourcecheck import Streamed, parse_streamed

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 3.0
HEAD = """\
import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


class FakeAIClient:
    async def stream(self, prompt):
        for token in ("Hello", " world"):
            yield token


client = FakeAIClient()
app = FastAPI()
"""
# A sync iterator class run in the threadpool, beside an async def generator nobody uses.
UNUSED_ASYNC_BESIDE_SYNC_CLASS = """
async def token_stream(prompt):
    async for token in client.stream(prompt):
        yield f"data: {token}\\n\\n"


class TokenIterator:
    def __init__(self, prompt):
        self.loop = asyncio.new_event_loop()
        self.tokens = client.stream(prompt)

    def __iter__(self):
        return self

    def __next__(self):
        try:
            token = self.loop.run_until_complete(anext(self.tokens))
        except StopAsyncIteration:
            self.loop.close()
            raise StopIteration from None
        return f"data: {token}\\n\\n"


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(TokenIterator(prompt), media_type="text/event-stream")
"""


def graded(tmp_path: Path, body: str) -> ExerciseResult:
    """Grade exercise 3 of a module made of the usual head and ``body``, in-process."""
    (tmp_path / EX3.filename).write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return grade_in_process(tmp_path, EX3, TIMEOUT)


def rule(result: ExerciseResult) -> tuple[bool, str]:
    """The verdict and message of the async-generator check in a result."""
    (check,) = [c for c in result.checks if c.name == "async generator"]
    return check.passed, check.message


def test_the_solution_passes_and_the_stub_fails() -> None:
    solution = grade_in_process(REPO / "solutions", EX3, TIMEOUT)
    stub = grade_in_process(REPO / "exercises", EX3, TIMEOUT)
    assert rule(solution) == (
        True,
        "GET /tokens streams token_stream(), an async def generator.",
    )
    passed, message = rule(stub)
    assert not passed
    assert message.startswith("token_stream() is a plain def generator, and it is what")


def test_an_unused_async_generator_beside_a_sync_iterator_class_fails(tmp_path: Path) -> None:
    passed, message = rule(graded(tmp_path, UNUSED_ASYNC_BESIDE_SYNC_CLASS))
    assert not passed
    assert message.startswith("GET /tokens streams a TokenIterator object, a sync iterator.")
    assert "threadpool" in message


def test_the_same_attack_fails_in_a_sandbox(tmp_path: Path) -> None:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / EX3.filename).write_text(
        HEAD + textwrap.dedent(UNUSED_ASYNC_BESIDE_SYNC_CLASS), encoding="utf-8"
    )
    result = grade_submission(folder, Limits(timeout=TIMEOUT), (EX3,)).exercise("ex3")
    passed, message = rule(result)
    assert not passed
    assert "TokenIterator object, a sync iterator" in message


def test_an_unused_sync_generator_beside_the_streamed_async_one_passes(tmp_path: Path) -> None:
    body = """
    def replay(tokens):
        yield from tokens


    async def token_stream(prompt):
        async for token in client.stream(prompt):
            yield f"data: {token}\\n\\n"


    @app.get("/tokens")
    async def stream_tokens(prompt: str = "Say hello"):
        return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
    """
    assert rule(graded(tmp_path, body))[0]


@pytest.mark.parametrize(
    ("body", "name"),
    [
        (
            """
            @app.get("/tokens", response_class=EventSourceResponse)
            async def stream_tokens(prompt: str = "Say hello"):
                async for token in client.stream(prompt):
                    yield ServerSentEvent(raw_data=token)
            """,
            "stream_tokens",
        ),
        (
            """
            @app.get("/tokens")
            async def stream_tokens(prompt: str = "Say hello"):
                async def token_stream():
                    async for token in client.stream(prompt):
                        yield f"data: {token}\\n\\n"

                return StreamingResponse(token_stream(), media_type="text/event-stream")
            """,
            "token_stream",
        ),
    ],
    ids=["path operation yields", "nested in the endpoint"],
)
def test_async_generators_the_route_runs_pass(tmp_path: Path, body: str, name: str) -> None:
    imports = "from fastapi.sse import EventSourceResponse, ServerSentEvent\n"
    passed, message = rule(graded(tmp_path, imports + textwrap.dedent(body)))
    assert passed, message
    assert message == f"GET /tokens streams {name}(), an async def generator."


@pytest.mark.parametrize(
    "body",
    [
        """
        from fastapi.sse import EventSourceResponse, ServerSentEvent

        @app.get("/tokens", response_class=EventSourceResponse)
        def stream_tokens(prompt: str = "Say hello"):
            for token in ("Hello", " world"):
                yield ServerSentEvent(raw_data=token)
        """,
        """
        @app.get("/tokens")
        def stream_tokens(prompt: str = "Say hello"):
            def token_stream():
                yield "data: Hello\\n\\n"

            return StreamingResponse(token_stream(), media_type="text/event-stream")
        """,
    ],
    ids=["path operation yields", "nested in the endpoint"],
)
def test_sync_generators_the_route_runs_fail_naming_them(tmp_path: Path, body: str) -> None:
    passed, message = rule(graded(tmp_path, body))
    assert not passed
    assert "is a plain def generator, and it is what GET /tokens streams." in message


def test_a_route_that_streams_nothing_fails(tmp_path: Path) -> None:
    body = """
    from fastapi.responses import PlainTextResponse

    @app.get("/tokens")
    async def stream_tokens(prompt: str = "Say hello"):
        return PlainTextResponse("data: Hello\\n\\n", media_type="text/event-stream")
    """
    passed, message = rule(graded(tmp_path, body))
    assert not passed
    assert message.startswith("GET /tokens returned no StreamingResponse")


# --- the records and the trusted source ----------------------------------------------------

SOURCE = textwrap.dedent(
    """
    def plain(prompt):
        yield prompt


    @decorated
    async def streaming(prompt):
        yield prompt
    """
)


def test_a_record_is_looked_up_in_the_source_the_grader_read() -> None:
    assert async_generator_check(SOURCE, [Streamed("async", "streaming", 6)]).passed
    # A record claiming the plain generator is async is not believed: the source says def.
    forged = async_generator_check(SOURCE, [Streamed("async", "plain", 2)])
    assert not forged.passed
    assert "which is not an async def generator of" in forged.message
    # Nor one naming a function the file does not have, or the right name on another line.
    assert not async_generator_check(SOURCE, [Streamed("async", "elsewhere", 3)]).passed
    assert not async_generator_check(SOURCE, [Streamed("async", "streaming", 2)]).passed


def test_one_sync_stream_among_async_ones_fails() -> None:
    records = [Streamed("async", "streaming", 6), Streamed("sync", "plain", 2)]
    assert not async_generator_check(SOURCE, records).passed


@pytest.mark.parametrize(
    "raw",
    [
        42,
        [42],
        [{"kind": "async", "name": "f"}] * 100,
        [{"kind": "async", "name": 3, "line": 1}],
        [{"kind": "maybe", "name": "f", "line": 1}],
        [{"kind": "async", "name": "f", "line": True}],
        [{"kind": "async", "name": "f", "line": -1}],
        {"kind": "async", "name": "f", "line": 1},
    ],
    ids=[
        "number",
        "list of numbers",
        "too many",
        "name not text",
        "unknown kind",
        "bool line",
        "negative line",
        "object",
    ],
)
def test_records_that_are_not_the_probe_s_are_refused(raw: object) -> None:
    assert parse_streamed(raw) is None
    assert not async_generator_check(SOURCE, parse_streamed(raw)).passed


def test_long_names_are_cut() -> None:
    (record,) = parse_streamed([{"kind": "sync", "name": "x" * 10_000, "line": None}]) or []
    assert len(record.name) < 100


def test_a_syntax_error_names_the_file_and_line() -> None:
    check = async_generator_check(
        "async def token_stream(prompt):\n    yield prompt\n\nx = (\n", [], filename=EX3.filename
    )
    assert not check.passed
    assert check.message == f"{EX3.filename} line 4: '(' was never closed."


# --- what the server's threads did, counted from outside -----------------------------------


def test_worker_threads_waking_for_every_event_fail_whatever_the_report_says() -> None:
    report = [Streamed("async", "streaming", 6)]
    assert async_generator_check(SOURCE, report, wakeups=2, events=12).passed
    threaded = async_generator_check(SOURCE, report, wakeups=30, events=12)
    assert not threaded.passed
    assert threaded.message.startswith("GET /tokens is streamed by code running in worker threads")
    assert async_generator_check(SOURCE, report, wakeups=None, events=12).passed  # in-process


FORGED_REPORT = (
    UNUSED_ASYNC_BESIDE_SYNC_CLASS
    + """

def _forge_the_report():
    import json
    import sys

    probe = sys.modules["grader.probe"]
    original = probe.Probe.__call__
    line = token_stream.__code__.co_firstlineno
    claim = [{"kind": "async", "name": "token_stream", "line": line}]

    async def forged(self, scope, receive, send):
        if scope.get("path") == probe.STREAMS_PATH:
            body = json.dumps(claim).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await original(self, scope, receive, send)

    probe.Probe.__call__ = forged


_forge_the_report()
"""
)


@pytest.mark.parametrize(
    ("body", "passes"),
    [
        (FORGED_REPORT, False),
        (
            """
            async def token_stream(prompt):
                async for token in client.stream(prompt):
                    yield f"data: {token}\\n\\n"


            @app.get("/tokens")
            def stream_tokens(prompt: str = "Say hello"):
                return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
            """,
            True,
        ),
    ],
    ids=["sync iterator, probe's report forged", "sync endpoint around an async generator"],
)
def test_in_a_sandbox_the_rule_counts_worker_threads(
    tmp_path: Path, body: str, passes: bool
) -> None:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / EX3.filename).write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    result = grade_submission(folder, Limits(timeout=TIMEOUT), (EX3,)).exercise("ex3")
    passed, message = rule(result)
    assert passed is passes, message
    if not passes:
        assert "worker threads" in message
