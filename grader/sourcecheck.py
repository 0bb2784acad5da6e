"""Source-level checks, read by the grader from the file before any submitted code runs."""

from __future__ import annotations

import ast

from grader.contract import EX3
from grader.results import Check

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


def _functions_outside_classes(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function of the module, nested ones included, but no methods.

    Methods are left out: the module's own FakeAIClient.stream is an async generator
    whatever the student writes.
    """
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.ClassDef):
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def generators(source: str) -> tuple[list[str], list[str]]:
    """Names of the async generator functions, and of the sync ones, outside classes."""
    gens = [f for f in _functions_outside_classes(ast.parse(source)) if _is_generator(f)]
    async_gens = sorted(f.name for f in gens if isinstance(f, ast.AsyncFunctionDef))
    sync_gens = sorted(f.name for f in gens if isinstance(f, ast.FunctionDef))
    return async_gens, sync_gens


def async_generator_check(source: str) -> Check:
    """Exercise 3 streams from an ``async def`` generator, not a sync one run in the threadpool."""
    try:
        async_gens, sync_gens = generators(source)
    except SyntaxError as exc:
        return Check("async generator", False, f"{EX3.filename} line {exc.lineno}: {exc.msg}.")
    if sync_gens:
        names = ", ".join(f"{name}()" for name in sync_gens)
        return Check(
            "async generator",
            False,
            f"{names} is a plain def generator. Starlette runs a sync generator in a worker "
            "thread of its threadpool, where it cannot await client.stream(); each token must "
            "be awaited.",
            nudge=NUDGE,
        )
    if not async_gens:
        return Check(
            "async generator",
            False,
            "No async def generator found: stream the tokens from an async def function that "
            "yields.",
            nudge=NUDGE,
        )
    return Check("async generator", True, f"{', '.join(async_gens)}() is an async generator.")
