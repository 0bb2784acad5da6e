"""Exercise 1, "Stream a list of lines": each element of ``lines`` and a newline, one chunk each."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from grader import fixtures
from grader.checks import body_lines, content_type_check, short, shown_lines
from grader.exercises.base import Exercise
from grader.grading import Target, exercise_result, read_with_inputs, response_check
from grader.probe import Probe
from grader.results import Check, ExerciseResult

if TYPE_CHECKING:
    from grader.transcript import Transcript

DEFAULT_LINES: tuple[str, ...] = ("alpha", "beta", "gamma")  # the module's own `lines`
LINE_COUNT = (4, 7)  # the module's list holds 3 items: every drawn list is longer


def lines(seed: int) -> tuple[str, ...]:
    """The grader's ``lines``: 4 to 7 distinct non-empty lines."""
    rng = fixtures.rng(seed, "ex1", "lines")
    return fixtures.distinct(
        rng, rng.randint(*LINE_COUNT), lambda: fixtures.phrase(rng, rng.randint(1, 4))
    )


class StreamLines(Exercise):
    """GET /lines streams the grader's lines as text/plain, one chunk per line."""

    def serve(self, module: ModuleType, feed_fd: int | None) -> Probe:
        """The app, with each request's lines (its inputs header) in place of ``lines``."""
        return Probe(module.app, self.filename, inputs=(module, "lines"))

    def grade(self, target: Target) -> ExerciseResult:
        """The response, its Content-Type, its body, one chunk per line."""
        drawn = lines(target.seed.value)
        t = read_with_inputs(target, self, sse=False, values=drawn)
        found = [response_check(self, t, target)]
        if found[0].passed:
            found += [
                content_type_check(self, t),
                lines_body_check(t, list(drawn)),
                lines_chunks_check(t, list(drawn)),
            ]
        return exercise_result(self, t, found)


def lines_body_check(t: Transcript, lines: list[str]) -> Check:
    """The body is each grader line followed by a newline."""
    expected = "".join(f"{line}\n" for line in lines)
    got = t.body.decode("utf-8", errors="replace")
    if got == expected:
        return Check("body", True, "The body is the grader's lines, each ending in \\n.")
    why, nudge = _body_problem(got, lines)
    return Check(
        "body",
        False,
        f"Expected body {short(expected)}, got {short(got)}. {why}",
        nudge=nudge,
        expected=body_lines(expected),
        actual=body_lines(got),
    )


def _body_problem(got: str, lines: list[str]) -> tuple[str, str]:
    """What is wrong with the body, and where to look."""
    if got == "".join(f"{line}\n" for line in DEFAULT_LINES):
        return (
            "That is the module's original list: the grader replaced `lines` before the "
            "request, so the endpoint must read `lines` when the request comes in, not a copy "
            "or a hard-coded answer.",
            "Look at where your generator gets its lines from.",
        )
    if got == "".join(lines):
        return (
            "The lines are there but run together: nothing ends a line.",
            "Look at what your generator yields for each line: what tells a reader that a "
            "line is over?",
        )
    if got == "\n".join(lines):
        return (
            "The last line has no newline: every line, the last one too, ends in \\n.",
            "Look at how the lines are put together: does the last one end like the others?",
        )
    return (
        "Yield each element of `lines` followed by \\n, in order, and nothing else.",
        "Compare what your generator yields with the expected body, line by line.",
    )


def lines_chunks_check(t: Transcript, lines: list[str]) -> Check:
    """One chunk per line."""
    expected = [f"{line}\n" for line in lines]
    got = [c.data.decode("utf-8", "replace") for c in t.chunks]
    if got and all(_one_line(chunk.data) for chunk in t.chunks):
        return Check("chunks", True, "Each line arrived as its own chunk.")
    return Check(
        "chunks",
        False,
        f"Expected {len(expected)} chunks, one per line, got {len(got)}: {short(got)}. "
        "Streaming means each line leaves the server as soon as it is ready, not once the "
        "whole text is built.",
        nudge="Look at how many times your generator yields, and what each yield holds.",
        expected=shown_lines(expected),
        actual=shown_lines(got),
    )


def _one_line(chunk: bytes) -> bool:
    """True for a chunk holding exactly one line, with or without its newline."""
    text = chunk.removesuffix(b"\n")
    return bool(text) and b"\n" not in text


EXERCISE = StreamLines(
    id="ex1",
    module="ex1_stream_lines",
    title="Stream a list of lines",
    method="GET",
    path="/lines",
    media_type="text/plain",
    hint=(
        'Write a generator that loops over lines and yields f"{line}\\n" for each, then '
        'return StreamingResponse(gen(), media_type="text/plain"). Each yield is sent as '
        "its own chunk, so the body comes out as 'alpha\\nbeta\\ngamma\\n'."
    ),
    nudges={"body": "Compare what your generator yields with the expected body, line by line."},
    data_source="lines",
    data_default=DEFAULT_LINES,
)
