"""The gradebook report: one spreadsheet row per submission."""

from __future__ import annotations

import csv
import io

from grader.exercises import ALL, EXERCISES
from grader.report.wording import points
from grader.results import SubmissionResult

# A cell starting with one of these is a formula to a spreadsheet; a quote keeps it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: str) -> str:
    """The value, quoted so that no spreadsheet evaluates it as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def exercise_points(result: SubmissionResult, exercise_id: str) -> str:
    """The points of one exercise, or empty when the submission lacks it."""
    found = [e.score for e in result.exercises if e.id == exercise_id]
    return points(found[0]) if found else ""


def render_csv(results: list[SubmissionResult]) -> str:
    """Header row, then submission, ex1, ex2, ex3, total, max for each submission.

    The lesson's exercises always have a column; a challenge has one when some
    submission was graded on it.
    """
    present = {e.id for result in results for e in result.exercises}
    columns = [ex.id for ex in ALL if ex in EXERCISES or ex.id in present]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("submission", *columns, "total", "max"))
    for result in results:
        scores = [exercise_points(result, exercise_id) for exercise_id in columns]
        total = (points(result.score), points(result.max_score))
        writer.writerow([as_text(result.submission), *scores, *total])
    return buffer.getvalue()
