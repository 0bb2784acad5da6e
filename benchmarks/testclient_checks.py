"""The baseline: what a typical autograder checks with Starlette's TestClient, and nothing more.

Each exercise module is imported, its data source replaced by the grader's
fixture values (an async fake client that just yields the tokens, for
exercise 3), and its endpoint called once: status, Content-Type and the final
body (for SSE, the parsed events) are compared. Nothing looks at chunks,
timing, the event loop or disconnects; TestClient hands back the whole body.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType

from fastapi.testclient import TestClient

from grader.exercises import Exercise, ex1_stream_lines, ex2_fix_sse, ex3_async_tokens
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.sse import parse_event_stream

OK_STATUS = 200
SEED = 0  # the inputs these checks use, drawn as the grader draws a submission's
LINES = ex1_stream_lines.lines(SEED)
MESSAGES = ex2_fix_sse.messages(SEED)
TOKENS = ex3_async_tokens.tokens(SEED, 0)
PROMPT = ex3_async_tokens.prompt(SEED, (0, 0))


class FixtureTokens:
    """A simple async AI client: yields the grader's tokens, awaiting nothing else."""

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        """Yield each fixture token."""
        for token in TOKENS:
            yield token


def import_module(folder: Path, ex: Exercise) -> ModuleType:
    """Import ``ex``'s module from ``folder`` afresh."""
    spec = importlib.util.spec_from_file_location(ex.module, folder / ex.filename)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {ex.filename}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[ex.module] = module
    spec.loader.exec_module(module)
    return module


def _get(module: ModuleType, ex: Exercise, **params: str) -> tuple[bool, bytes]:
    """Call the endpoint once; whether status and Content-Type are right, and the body."""
    with TestClient(module.app) as client:
        response = client.get(ex.path, params=params)
    right = response.status_code == OK_STATUS and response.headers.get(
        "content-type", ""
    ).startswith(ex.media_type)
    return right, response.content


def check_lines(module: ModuleType) -> bool:
    """Exercise 1: the fixture lines, each ending with a newline, as text/plain."""
    module.lines = list(LINES)
    right, body = _get(module, EX1)
    return right and body.decode() == "".join(f"{line}\n" for line in LINES)


def check_messages(module: ModuleType) -> bool:
    """Exercise 2: one SSE event per fixture message."""
    module.messages = list(MESSAGES)
    right, body = _get(module, EX2)
    return right and [e.data for e in parse_event_stream(body)] == list(MESSAGES)


def check_tokens(module: ModuleType) -> bool:
    """Exercise 3: one SSE event per token of the (fake) AI client."""
    module.client = FixtureTokens()
    right, body = _get(module, EX3, prompt=PROMPT)
    return right and [e.data for e in parse_event_stream(body)] == list(TOKENS)


CHECKS: dict[Exercise, Callable[[ModuleType], bool]] = {
    EX1: check_lines,
    EX2: check_messages,
    EX3: check_tokens,
}


def check_submission(folder: Path) -> dict[str, bool]:
    """Whether each exercise of a submission folder passed; a module that fails fails."""
    passed = {}
    for ex, check in CHECKS.items():
        try:
            passed[ex.id] = check(import_module(folder, ex))
        except Exception:  # a broken submission is a failed exercise, as in any autograder
            passed[ex.id] = False
    return passed
