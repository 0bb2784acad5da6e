"""The source rule of exercise 3: an async def generator, and no sync generator at module level."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.contract import EX3
from grader.sourcecheck import async_generator_check, generators

REPO = Path(__file__).resolve().parents[2]

CLIENT = """
class FakeAIClient:
    async def stream(self, prompt):
        yield prompt

    def tokens(self):
        yield from ()
"""


def check(source: str) -> tuple[bool, str]:
    """The verdict and message of the rule on ``source``."""
    result = async_generator_check(textwrap.dedent(source))
    assert result.name == "async generator"
    return result.passed, result.message


def test_the_solution_passes_and_the_stub_fails() -> None:
    solution = (REPO / "solutions" / EX3.filename).read_text(encoding="utf-8")
    stub = (REPO / "exercises" / EX3.filename).read_text(encoding="utf-8")
    assert check(solution) == (True, "token_stream() is an async generator.")
    passed, message = check(stub)
    assert not passed
    assert message.startswith("token_stream() is a plain def generator.")


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("async def a():\n    yield 1\n", (["a"], [])),
        ("def s():\n    yield 1\n", ([], ["s"])),
        ("def s():\n    x = yield\n    return x\n", ([], ["s"])),
        ("def s():\n    yield from range(3)\n", ([], ["s"])),
        ("async def a():\n    if True:\n        for i in []:\n            yield i\n", (["a"], [])),
        ("def f():\n    return [x for x in range(3)]\n", ([], [])),
        ("def f():\n    return lambda: (yield)\n", ([], [])),
        ("async def f():\n    class C:\n        def g(self):\n            yield 1\n", ([], [])),
        ("def f():\n    return (x for x in range(3))\n", ([], [])),
        (CLIENT, ([], [])),
        ("async def a():\n    yield 1\n\n\ndef s():\n    yield 2\n", (["a"], ["s"])),
    ],
)
def test_generators_are_the_module_level_functions_that_yield(
    source: str, found: tuple[list[str], list[str]]
) -> None:
    assert generators(source) == found


def test_a_module_level_sync_generator_fails_naming_it() -> None:
    passed, message = check(
        """
        async def token_stream(prompt):
            yield prompt

        def replay(tokens):
            yield from tokens

        def paced(tokens):
            for token in tokens:
                yield token
        """
    )
    assert not passed
    names, plain, _ = message.partition(" is a plain def generator.")
    assert plain
    assert sorted(names.split(", ")) == ["paced()", "replay()"]
    assert "threadpool" in message
    assert EX3.hint not in message


def test_no_generator_at_all_fails() -> None:
    passed, message = check(CLIENT + "\n\ndef token_stream(prompt):\n    return iter([prompt])\n")
    assert not passed
    assert message.startswith("No async def generator found")


def test_the_path_operation_may_itself_be_the_async_generator() -> None:
    passed, message = check(
        """
        @app.get("/tokens", response_class=EventSourceResponse)
        async def stream_tokens(prompt: str = "Say hello"):
            async for token in client.stream(prompt):
                yield ServerSentEvent(raw_data=token)
        """
    )
    assert (passed, message) == (True, "stream_tokens() is an async generator.")


def test_an_async_generator_nested_in_the_endpoint_passes() -> None:
    passed, message = check(
        """
        @app.get("/tokens")
        async def stream_tokens(prompt: str = "Say hello"):
            async def token_stream():
                async for token in client.stream(prompt):
                    yield f"data: {token}\\n\\n"

            return StreamingResponse(token_stream(), media_type="text/event-stream")
        """
    )
    assert (passed, message) == (True, "token_stream() is an async generator.")


def test_a_sync_generator_nested_in_the_endpoint_fails_naming_it() -> None:
    passed, message = check(
        """
        @app.get("/tokens")
        def stream_tokens(prompt: str = "Say hello"):
            def token_stream():
                for token in asyncio.run(collect(prompt)):
                    yield f"data: {token}\\n\\n"

            return StreamingResponse(token_stream(), media_type="text/event-stream")
        """
    )
    assert not passed
    assert message.startswith("token_stream() is a plain def generator.")


def test_a_non_generator_helper_is_allowed() -> None:
    passed, _ = check(
        """
        def sse(data):
            return f"data: {data}\\n\\n"

        async def token_stream(prompt):
            async for token in client.stream(prompt):
                yield sse(token)
        """
    )
    assert passed


def test_a_syntax_error_names_the_file_and_line() -> None:
    passed, message = check("async def token_stream(prompt):\n    yield prompt\n\nx = (\n")
    assert not passed
    assert message == f"{EX3.filename} line 4: '(' was never closed."
