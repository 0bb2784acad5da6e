"""The readable report for students and instructors at a terminal.

It is student-facing: it shows each check's message, never its instructor-only details.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from grader.hints import nudge
from grader.report.timeline import timeline_table
from grader.report.untrusted import single_line
from grader.report.wording import fraction, graded_checks, graded_ids, title, visible
from grader.results import Check, ExerciseResult, SubmissionResult

GREEN = "32"
RED = "31"
BOLD = "1"
DIM = "2"
INDENT = " " * 6
MESSAGE_INDENT = " " * 4
NOTHING_GRADED = "No submissions were graded."
NUDGE_MARK = "→"  # before the nudge: where to look for the first failure's mistake


@dataclass(frozen=True)
class Style:
    """Wraps text in ANSI colour codes, or leaves it alone when colour is off."""

    color: bool

    def __call__(self, text: str, code: str) -> str:
        """The text in the given SGR code."""
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def verdict(self, passed: bool) -> str:
        """PASS in green or FAIL in red."""
        return self("PASS", GREEN) if passed else self("FAIL", RED)


def labelled_lines(label: str, text: str) -> list[str]:
    """``label: text``, the text's later lines indented below it, every line made safe."""
    first, *more = visible(text).splitlines() or [""]
    return [f"{label}: {first}", *(f"{MESSAGE_INDENT}{line}" for line in more)]


def check_lines(check: Check) -> list[str]:
    """A failed check: its name and message, later message lines indented below."""
    return labelled_lines(f"- {single_line(check.name)}", check.message)


def exercise_lines(result: ExerciseResult, style: Style) -> list[str]:
    """One exercise: verdict and score, then failures, advice and the chunk timeline."""
    score = fraction(result.score, result.max_score)
    lines = [f"{result.id:<4}  {style.verdict(result.passed)}  {score:>7}  {title(result.id)}"]
    details: list[str] = []
    for check in graded_checks(result):
        if not check.passed:
            details += check_lines(check)
    if failures := result.failures():
        details.append(f"{NUDGE_MARK} {visible(nudge(failures[0], result.id))}")
    for advice in result.advice:
        details += labelled_lines("advice", advice)
    if not result.passed and (result.timeline or result.omitted.chunks):
        details.append("what the client received, chunk by chunk:")
        details += [
            style(visible(line), DIM)
            for line in timeline_table(result.timeline, result.omitted, result.reconnects)
        ]
    return lines + [textwrap.indent(line, INDENT) for line in details]


def submission_block(result: SubmissionResult, style: Style) -> str:
    """Everything about one submission."""
    score = fraction(result.score, result.max_score)
    lines = [style(f"== {single_line(result.submission)} ==  {score} points", BOLD)]
    for exercise_result in result.exercises:
        lines += exercise_lines(exercise_result, style)
    lines += [f"note: {single_line(note)}" for note in result.notes]
    return "\n".join(lines)


def exercise_cell(result: SubmissionResult, exercise_id: str) -> tuple[str, bool | None]:
    """The summary cell of one exercise (its score) and whether it passed."""
    found = [e for e in result.exercises if e.id == exercise_id]
    if not found:
        return "-", None
    return fraction(found[0].score, found[0].max_score), found[0].passed


def summary_rows(results: list[SubmissionResult]) -> list[list[tuple[str, bool | None]]]:
    """Table cells with their pass state (None: no colour): header, one row each, totals."""
    ids = graded_ids(results)
    rows = [[(name, None) for name in ("submission", *ids, "score")]]
    for result in results:
        cells = [exercise_cell(result, exercise_id) for exercise_id in ids]
        total = (fraction(result.score, result.max_score), result.passed)
        rows.append([(single_line(result.submission), None), *cells, total])
    totals = []
    for exercise_id in ids:
        found = [e for r in results for e in r.exercises if e.id == exercise_id]
        scored = fraction(sum(e.score for e in found), sum(e.max_score for e in found))
        totals.append((scored, None))
    class_total = fraction(sum(r.score for r in results), sum(r.max_score for r in results))
    rows.append([("total", None), *totals, (class_total, None)])
    return rows


def summary_table(results: list[SubmissionResult], style: Style) -> str:
    """The class summary: submission | ex1 | ex2 | ex3 | score, then the totals."""
    rows = summary_rows(results)
    widths = [max(len(row[i][0]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = []
        for (text, passed), width in zip(row, widths, strict=True):
            painted = text if passed is None else style(text, GREEN if passed else RED)
            cells.append(painted + " " * (width - len(text)))
        lines.append("  ".join(cells).rstrip())
    lines[0] = style(lines[0], BOLD)
    return "\n".join(lines)


def render_text(results: list[SubmissionResult], *, color: bool = False) -> str:
    """The whole text report: one block per submission, then the summary table."""
    if not results:
        return NOTHING_GRADED + "\n"
    style = Style(color)
    blocks = [submission_block(result, style) for result in results]
    blocks.append(summary_table(results, style))
    return "\n\n".join(blocks) + "\n"
