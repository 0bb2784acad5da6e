"""What a server says its streaming responses iterated, checked against the source the grader read.

The probe in the server reports, per streaming response, whether the route
iterated an async generator or a sync iterator that Starlette ran in its
threadpool, and which function it came from (``grader.probe``). The report
comes from the hostile server, which could lie, so it is read strictly
(``parse_streamed``) and only to name a function, which the grader then looks
up in the source it read itself before any submitted code ran
(``defined_at``): an unused ``async def`` generator elsewhere in the file
satisfies nothing. An exercise's rule on it (exercise 3's async-generator rule)
lives in that exercise's module, beside what it checks from outside.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

KINDS = ("async", "sync", "other")
MAX_STREAMED = 64  # the probe keeps 20
MAX_NAME = 80


def is_generator(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
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
    """What the probe says one streaming response iterated: its kind and the function's name."""

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


def defined_at(tree: ast.Module, name: str, line: int | None) -> ast.AST | None:
    """The function named ``name`` whose definition (decorators included) starts at ``line``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if line is not None and first == line:
                return node
    return None
