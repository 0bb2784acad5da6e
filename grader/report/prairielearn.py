"""PrairieLearn's results.json for one submission of an externally graded question.

Format: PrairieLearn's "External Grading" documentation, section "Grading results"
(docs.prairielearn.com/externalGrading/): ``score`` from 0 to 1, ``gradable``, a
``message`` and ``output`` for the whole submission, and ``tests``, each with ``name``,
``description``, ``points``, ``max_points``, ``message`` and ``output``, which the
``<pl-external-grader-results>`` element renders; a test's ``images`` (data URIs)
carry its timeline chart where one exists. The documentation limits the file
to 1 MB; every text field here is clipped to a share of that budget, measured in the
bytes JSON spells it with, so no submission can push the document past it, whatever
its messages hold.
"""

from __future__ import annotations

import base64
import json

from grader.report.chart import timeline_png
from grader.report.text import Style, exercise_lines
from grader.report.wording import fraction, graded_checks, title, visible
from grader.results import ExerciseResult, SubmissionResult

LIMIT_BYTES = 1_000_000
# Budgets in JSON-encoded bytes; with three exercises they add up to about 0.9 MB.
MESSAGE_BYTES = 8_000
OUTPUT_BYTES = 100_000
IMAGE_BYTES = 150_000  # a chart's data URI; the charts drawn take about a tenth of it
CUT_NOTE = "\n... (cut: too long to show)"


def encoded_size(text: str) -> int:
    """How many bytes the text takes as a JSON string (quotes included)."""
    return len(json.dumps(text))


def clip(text: str, budget: int) -> str:
    """The longest prefix of text, plus a note saying it was cut, that fits the budget."""
    if encoded_size(text) <= budget:
        return text
    room = budget - encoded_size(CUT_NOTE) + len('""')  # one pair of quotes is shared
    low, high = 0, len(text)
    while low < high:  # the longest prefix whose encoding fits the room left
        middle = (low + high + 1) // 2
        if encoded_size(text[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low] + CUT_NOTE


def failure_message(result: ExerciseResult) -> str:
    """The test's message: the verdict, then the first failed check's message."""
    if result.passed:
        return "Passed: every check succeeded."
    first = result.failures()[0] if result.failures() else graded_checks(result)[0]
    return f"Failed: {visible(first.name)}: {visible(first.message)}"


def exercise_output(result: ExerciseResult) -> str:
    """Every check with its verdict, then the text report's block for the exercise."""
    verdicts = [
        f"[{'pass' if check.passed else 'FAIL'}] {visible(check.name)}"
        for check in graded_checks(result)
    ]
    return "\n".join([*verdicts, "", *exercise_lines(result, Style(color=False))])


def timeline_images(result: ExerciseResult) -> list[dict[str, str]]:
    """The exercise's timeline chart as a PrairieLearn image, when there is one to draw."""
    png = timeline_png(result)
    if png is None:
        return []
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    if len(url) > IMAGE_BYTES:
        return []
    return [{"label": f"{result.id}: when each chunk arrived", "url": url}]


def test_entry(result: ExerciseResult) -> dict[str, object]:
    """One exercise as a PrairieLearn test, with its timeline chart when it has one."""
    images = timeline_images(result)
    entry = {
        "name": f"{result.id}: {title(result.id)}",
        "description": f"{len(graded_checks(result))} checks, all of which must pass",
        "points": result.score,
        "max_points": result.max_score,
        "message": clip(failure_message(result), MESSAGE_BYTES),
        "output": clip(exercise_output(result), OUTPUT_BYTES),
    }
    return {**entry, "images": images} if images else entry


def document(result: SubmissionResult) -> dict[str, object]:
    """The whole results object for one graded submission."""
    passed = sum(e.passed for e in result.exercises)
    score = result.score / result.max_score if result.max_score else 0.0
    overview = (
        f"{passed} of {len(result.exercises)} exercises passed: "
        f"{fraction(result.score, result.max_score)} points."
    )
    notes = "\n".join(f"note: {visible(note)}" for note in result.notes)
    return {
        "gradable": True,
        "score": min(max(score, 0.0), 1.0),
        "message": clip(overview, MESSAGE_BYTES),
        "output": clip(notes, OUTPUT_BYTES),
        "tests": [test_entry(exercise_result) for exercise_result in result.exercises],
    }


def render_prairielearn(results: list[SubmissionResult]) -> str:
    """PrairieLearn's results.json; it describes exactly one submission."""
    if len(results) != 1:
        raise ValueError(
            f"PrairieLearn takes the results of exactly one submission, not {len(results)}"
        )
    text = json.dumps(document(results[0]), indent=2) + "\n"
    if len(text.encode()) > LIMIT_BYTES:  # the budgets above make this unreachable
        raise ValueError(f"PrairieLearn results would exceed {LIMIT_BYTES} bytes")
    return text
