"""Gradescope's results.json for one submission.

Format: Gradescope's "Autograder Specifications" page (the results.json section).
Each exercise becomes one visible test that carries its score and everything the
student needs, as the notebook shows it (grader/report/html.py): every check with
its ✓ or ✗ and message, expected and received side by side, the nudge and the
lesson's hint folded away, the advice and the timeline. Each exercise also gets a
"hidden" test, which students never see and which carries no points, holding what
only instructors should read: timings and each check's details. "hidden" rather
than "after_published" because the specification says a test students cannot yet
see hides their total score, while hidden tests, which carry no points, do not.
"""

from __future__ import annotations

import json
import math

from grader.report.html import render_exercise
from grader.report.wording import fraction, graded_checks, title, visible
from grader.results import ExerciseResult, SubmissionResult

VISIBLE = "visible"
HIDDEN = "hidden"
PLAIN_TEXT = "text"  # shown as-is: no HTML or Markdown from a submission is ever rendered
# The student's test output is HTML that the renderer built, everything from the submission
# in it escaped. The specification's "Output String Formatting" section says Gradescope
# sanitizes HTML output and may drop some elements; it promises nothing about images, so the
# timeline is a text sparkline rather than a data: URI image.
HTML = "html"
TIMELINE = "sparkline"
PASSED = "passed"
FAILED = "failed"


def student_output(result: ExerciseResult) -> str:
    """What the student reads about one exercise, as HTML."""
    return render_exercise(result, chart_style=TIMELINE, style=False)


def instructor_output(result: ExerciseResult) -> str:
    """What only instructors read about one exercise: its timing and each check's details."""
    lines = [f"Instructor only. {result.id} took {result.duration:.3f} s."]
    for check in graded_checks(result):
        state = "pass" if check.passed else "FAIL"
        lines.append(f"[{state}] {visible(check.name)}")
        if check.details:
            lines += [f"    {line}" for line in visible(check.details).splitlines()]
    return "\n".join(lines)


def status(result: ExerciseResult) -> str:
    """Gradescope's test status for the exercise."""
    return PASSED if result.passed else FAILED


def exercise_tests(result: ExerciseResult, number: int) -> list[dict[str, object]]:
    """The visible, scored test of one exercise and its hidden instructor test worth no points."""
    student = {
        "name": f"{result.id}: {title(result.id)}",
        "number": str(number),
        "score": result.score,
        "max_score": result.max_score,
        "status": status(result),
        "output": student_output(result),
        "output_format": HTML,
        "visibility": VISIBLE,
    }
    instructor = {
        "name": f"{result.id}: instructor details",
        "number": f"{number}.1",
        "score": 0.0,
        "max_score": 0.0,
        "status": status(result),
        "output": instructor_output(result),
        "output_format": PLAIN_TEXT,
        "visibility": HIDDEN,
    }
    return [student, instructor]


def overview(result: SubmissionResult) -> str:
    """The submission-wide text at the top of the student's results page."""
    lines = [f"Score: {fraction(result.score, result.max_score)} points."]
    for exercise_result in result.exercises:
        verdict = "passed" if exercise_result.passed else "failed"
        lines.append(f"{exercise_result.id} ({title(exercise_result.id)}): {verdict}")
    lines += [f"Note: {visible(note)}" for note in result.notes]
    return "\n".join(lines)


def render_gradescope(results: list[SubmissionResult]) -> str:
    """Gradescope's results.json; it describes exactly one submission."""
    if len(results) != 1:
        raise ValueError(
            f"Gradescope takes the results of exactly one submission, not {len(results)}"
        )
    (result,) = results
    duration = result.duration or sum(e.duration for e in result.exercises)
    tests = []
    for number, exercise_result in enumerate(result.exercises, start=1):
        tests += exercise_tests(exercise_result, number)
    document = {
        "score": result.score,
        "execution_time": math.ceil(duration),
        "output": overview(result),
        "output_format": PLAIN_TEXT,
        "test_output_format": PLAIN_TEXT,
        "test_name_format": PLAIN_TEXT,
        "visibility": VISIBLE,
        "stdout_visibility": HIDDEN,
        "tests": tests,
    }
    return json.dumps(document, indent=2) + "\n"
