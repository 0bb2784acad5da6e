"""How every report words points, exercises and untrusted text."""

from __future__ import annotations

from grader.exercises import ALL, EXERCISES, exercise
from grader.report.untrusted import safe_text
from grader.results import Check, ExerciseResult, SubmissionResult

NO_CHECKS = Check("graded", False, "No checks ran for this exercise.")


def points(value: float) -> str:
    """A score the way people write it: 1, 0, 2.5."""
    return f"{value:g}"


def fraction(score: float, max_score: float) -> str:
    """Score over maximum, like 2/3."""
    return f"{points(score)}/{points(max_score)}"


def title(exercise_id: str) -> str:
    """The exercise's title from the contract, or its id when the contract does not know it."""
    try:
        return exercise(exercise_id).title
    except KeyError:
        return exercise_id


def graded_ids(results: list[SubmissionResult]) -> list[str]:
    """The exercises any submission was graded on, in order (the lesson's when none was)."""
    present = {e.id for result in results for e in result.exercises}
    return [ex.id for ex in ALL if ex.id in present] or [ex.id for ex in EXERCISES]


def graded_checks(result: ExerciseResult) -> list[Check]:
    """The checks a report lists: an exercise without any shows one failed placeholder."""
    return result.checks or [NO_CHECKS]


def visible(text: str) -> str:
    """Untrusted text as a report shows it: capped, its unsafe characters spelled out."""
    return safe_text(text)
