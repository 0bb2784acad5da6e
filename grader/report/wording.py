"""How every report words points, exercises and untrusted text."""

from __future__ import annotations

import re

from grader.contract import exercise
from grader.results import Check, ExerciseResult

NO_CHECKS = Check("graded", False, "No checks ran for this exercise.")
# C0/C1 control characters (tab and newline kept) and the bidirectional overrides
# that could make a hostile submission's text rewrite the terminal or reorder itself.
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


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


def graded_checks(result: ExerciseResult) -> list[Check]:
    """The checks a report lists: an exercise without any shows one failed placeholder."""
    return result.checks or [NO_CHECKS]


def escape_character(match: re.Match[str]) -> str:
    """The escape sequence that spells one unsafe character."""
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """Untrusted text with its control characters spelled out as escapes."""
    return UNSAFE_CHARACTERS.sub(escape_character, text)
