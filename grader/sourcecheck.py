"""The async-generator rule of exercise 3, judged on what the /tokens route really streamed.

The probe in the server reports, per streaming response, whether the route
iterated an async generator or a sync iterator that Starlette ran in its
threadpool, and which function it came from (``grader.probe``). The grader then
looks that function up in the source it read itself before any submitted code
ran: an unused ``async def`` generator elsewhere in the file satisfies nothing.
The report comes from the hostile server, which could lie. So the grader also
counts, from outside, how often the server's threads other than the event loop's
woke while the tokens streamed (the kernel's count of voluntary context switches
in /proc, which the server cannot lower): Starlette runs each step of a sync
iterator in a worker thread, so such a route wakes one for every event however
it reports itself, while an async generator's stream wakes none. What the rule
exists for (each token awaited, the loop kept free) is judged from outside by
the feed and the loop watch besides.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from grader.results import Check

NAME = "async generator"
KINDS = ("async", "sync", "other")
MAX_STREAMED = 64  # the probe keeps 20
MAX_NAME = 80
# A sync iterator in the threadpool wakes a worker at least once per event; a sync
# endpoint around an async generator runs there only before its first event, uncounted.
MIN_WAKEUPS = 6
NUDGE = "Look at how your generator is defined: can it await what client.stream() gives it?"


def _is_generator(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when the function's own body (not a nested function's) yields."""
    stack: list[ast.AST] = list(node.body)
    while stack:
        child = stack.pop()
        if isinstance(child, ast.Yield | ast.YieldFrom):
            return True
        if not isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
        ):
            stack.extend(ast.iter_child_nodes(child))
    return False


@dataclass(frozen=True)
class Streamed:
    """What the probe says one /tokens response iterated: its kind and the function's name."""

    kind: str  # "async", "sync" (run in the threadpool) or "other"
    name: str
    line: int | None


def parse_streamed(raw: object) -> list[Streamed] | None:
    """The probe's records, strictly checked; None when they are not what the probe writes."""
    if not isinstance(raw, list) or len(raw) > MAX_STREAMED:
        return None
    found = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        kind, name, line = item.get("kind"), item.get("name"), item.get("line")
        if kind not in KINDS or not isinstance(name, str) or not _is_line(line):
            return None
        found.append(Streamed(kind, name[:MAX_NAME], line))
    return found


def _is_line(line: object) -> bool:
    """A line number as the probe writes it: a positive int, or None."""
    return line is None or (type(line) is int and line > 0)


def _defined_at(tree: ast.Module, name: str, line: int | None) -> ast.AST | None:
    """The function named ``name`` whose definition (decorators included) starts at ``line``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if line is not None and first == line:
                return node
    return None


def async_generator_check(
    source: str,
    streamed: list[Streamed] | None,
    wakeups: int | None = None,
    events: int = 0,
    *,
    filename: str = "the module",
) -> Check:
    """Exercise 3 streams from an ``async def`` generator, not a sync one run in the threadpool.

    Judged on what the route really iterated (``streamed``, from the probe), each
    function looked up in ``source``, the file as the grader read it before it ran;
    then on ``wakeups``, how often the server's threads besides the event loop's
    woke while ``events`` events were streamed (the kernel's count, read from
    outside): a sync iterator in the threadpool wakes a worker for every event.
    """
    reported = _reported_check(source, streamed, filename)
    if reported.passed and wakeups is not None and events and wakeups >= max(MIN_WAKEUPS, events):
        return _fail(
            f"GET /tokens is streamed by code running in worker threads ({wakeups} wake-ups "
            f"of threads other than the event loop's for {events} events): Starlette runs a "
            "sync iterator in a worker thread of its threadpool, where it cannot await "
            "client.stream(); each token must be awaited in an async def generator."
        )
    return reported


def _reported_check(source: str, streamed: list[Streamed] | None, filename: str) -> Check:
    """The rule on what the probe reports, each function looked up in the trusted source."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return Check(NAME, False, f"{filename} line {exc.lineno}: {exc.msg}.")
    if streamed is None:
        return Check(NAME, False, "The server did not say what GET /tokens streamed.")
    if not streamed:
        return _fail(
            "GET /tokens returned no StreamingResponse: return one around an async def "
            "generator that yields each token's event."
        )
    for item in streamed:
        node = _defined_at(tree, item.name, item.line)
        if item.kind != "async":
            return _fail(_not_async(item, node))
        if not (isinstance(node, ast.AsyncFunctionDef) and _is_generator(node)):
            return _fail(
                f"GET /tokens streams {item.name}(), which is not an async def generator of "
                f"{filename}: stream the tokens from one defined there."
            )
    names = ", ".join(sorted({f"{item.name}()" for item in streamed}))
    return Check(NAME, True, f"GET /tokens streams {names}, an async def generator.")


def _not_async(item: Streamed, node: ast.AST | None) -> str:
    """Why a route that streams a sync iterator (or another object) fails the rule."""
    if isinstance(node, ast.FunctionDef):
        what = f"{item.name}() is a plain def generator, and it is what GET /tokens streams."
    else:
        kind = "a sync iterator" if item.kind == "sync" else "not an async def generator"
        what = f"GET /tokens streams a {item.name} object, {kind}."
    if item.kind == "other":
        return f"{what} Stream the tokens from an async def function that yields."
    return (
        f"{what} Starlette runs a sync iterator in a worker thread of its threadpool, where "
        "it cannot await client.stream(); each token must be awaited."
    )


def _fail(message: str) -> Check:
    """A failed async-generator check, pointing at how the generator is defined."""
    return Check(NAME, False, message, nudge=NUDGE)
