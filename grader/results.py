"""What grading produces: checks, exercise results and submission results.

``SubmissionResult.to_dict()`` is the public JSON contract of ``--format json``;
keep its keys exactly as they are.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.exercises.base import Exercise


@dataclass(frozen=True)
class Chunk:
    """One body chunk as the client received it: when (seconds from the request) and what."""

    t: float
    data: bytes


# What a result keeps of a response for its timeline; the rest is counted, not kept.
TIMELINE_CHUNKS = 100
TIMELINE_BYTES = 64 * 1024
MAX_RECORD_BYTES = 1 << 20  # one submission's saved result, as JSON
MAX_RECORD_TEXT = 4000  # characters of one text of a record that is over that size
MAX_RECORD_ITEMS = 200  # items of one list of texts or numbers, likewise


@dataclass(frozen=True)
class Omitted:
    """The chunks a timeline left out: how many, their bytes, and when the last one came."""

    chunks: int = 0
    bytes: int = 0
    last_t: float = 0.0

    def plus(self, chunks: list[Chunk]) -> Omitted:
        """These totals with ``chunks`` counted in too."""
        if not chunks:
            return self
        size = sum(len(chunk.data) for chunk in chunks)
        return Omitted(self.chunks + len(chunks), self.bytes + size, max(self.last_t, chunks[-1].t))


def bounded_timeline(chunks: list[Chunk]) -> tuple[list[Chunk], list[Chunk]]:
    """The first chunks, up to TIMELINE_CHUNKS and TIMELINE_BYTES, and the ones left out."""
    size = 0
    for index, chunk in enumerate(chunks[: TIMELINE_CHUNKS + 1]):
        size += len(chunk.data)
        if index == TIMELINE_CHUNKS or size > TIMELINE_BYTES:
            return chunks[:index], chunks[index:]
    return chunks, []


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    ``message`` is for the student. ``details`` is for the instructor only
    (tracebacks, timings, process accounting) and never reaches the student.
    ``nudge`` points a failing student at what to look at, without the fix;
    ``expected`` and ``actual``, when set, are what a rich report shows side by side.
    """

    name: str
    passed: bool
    message: str
    details: str = ""
    nudge: str = ""
    expected: tuple[str, ...] = ()
    actual: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Check:
        """A check written by ``to_record`` (older records lack the later fields)."""
        fields = {**record}
        for side in ("expected", "actual"):
            fields[side] = tuple(record.get(side, ()))
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        """The check as the JSON contract spells it."""
        return {"name": self.name, "passed": self.passed, "message": self.message}


@dataclass
class ExerciseResult:
    """All checks of one exercise; it passes when every check passes, and scores all or nothing."""

    id: str
    checks: list[Check] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    timeline: list[Chunk] = field(default_factory=list)
    # An exercise fed by the grader: when it released each token, in seconds from the request.
    released: list[float] = field(default_factory=list)
    # When the timeline holds several connections one after another (exercise 5's reconnects):
    # when each one after the first opened, on the first one's clock.
    reconnects: list[float] = field(default_factory=list)
    max_score: float = 1.0
    duration: float = 0.0
    omitted: Omitted = field(default_factory=Omitted)  # the response's chunks past the timeline

    def __post_init__(self) -> None:
        """Keep a bounded timeline, however many chunks the response had: count the rest."""
        self.timeline, rest = bounded_timeline(list(self.timeline))
        self.omitted = self.omitted.plus(rest)

    @property
    def passed(self) -> bool:
        """True when there is at least one check and all of them passed."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def score(self) -> float:
        """Full marks when passed, else nothing."""
        return self.max_score if self.passed else 0.0

    def failures(self) -> list[Check]:
        """The checks that failed, in order."""
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """The exercise as the JSON contract spells it."""
        return {
            "id": self.id,
            "passed": self.passed,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass
class SubmissionResult:
    """One submission folder's results, always holding all three exercises in contract order."""

    submission: str
    exercises: list[ExerciseResult]
    duration: float = 0.0
    notes: list[str] = field(default_factory=list)
    ungraded: str = ""  # why the grader itself failed on this submission, when it did

    @property
    def score(self) -> float:
        """Sum of the exercise scores."""
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        """Sum of the exercise maxima."""
        return sum(e.max_score for e in self.exercises)

    @property
    def passed(self) -> bool:
        """True when every exercise passed."""
        return all(e.passed for e in self.exercises)

    def exercise(self, exercise_id: str) -> ExerciseResult:
        """The result of one exercise by id."""
        return next(e for e in self.exercises if e.id == exercise_id)

    def to_dict(self) -> dict[str, Any]:
        """The submission as the JSON contract spells it."""
        return {
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "exercises": [e.to_dict() for e in self.exercises],
        }


def failed_exercise(ex: Exercise, name: str, message: str, details: str = "") -> ExerciseResult:
    """An exercise result holding a single failed check (for example: it did not import)."""
    return ExerciseResult(
        id=ex.id, checks=[Check(name, False, message, details)], max_score=ex.max_score
    )


def ordered(
    submission: str,
    results: dict[str, ExerciseResult],
    exercises: tuple[Exercise, ...] | None = None,
) -> SubmissionResult:
    """Assemble a submission result with the graded exercises (default: the lesson's), in order."""
    if exercises is None:
        from grader.exercises import EXERCISES  # the exercises build on this module

        exercises = EXERCISES
    missing = "was not graded"
    return SubmissionResult(
        submission=submission,
        exercises=[
            results.get(ex.id) or failed_exercise(ex, "graded", f"{ex.filename} {missing}")
            for ex in exercises
        ],
    )


def to_record(result: SubmissionResult) -> dict[str, Any]:
    """Everything about a submission result, instructor fields included, as JSON-ready data."""
    record = asdict(result)
    for exercise in record["exercises"]:
        exercise["timeline"] = [
            {"t": c["t"], "data": base64.b64encode(c["data"]).decode()}
            for c in exercise["timeline"]
        ]
    return record if _size(record) <= MAX_RECORD_BYTES else _shrunk(result, record)


def _size(record: dict[str, Any]) -> int:
    """The bytes of a record as JSON."""
    return len(json.dumps(record).encode())


def _shrunk(result: SubmissionResult, record: dict[str, Any]) -> dict[str, Any]:
    """A record over MAX_RECORD_BYTES, its timelines counted only and every text capped."""
    for exercise, kept in zip(record["exercises"], result.exercises, strict=True):
        exercise["timeline"] = []
        exercise["omitted"] = asdict(kept.omitted.plus(kept.timeline))
    return _capped(record)


def _capped(value: Any) -> Any:
    """``value`` with long texts cut and long lists of texts or numbers shortened."""
    if isinstance(value, str) and len(value) > MAX_RECORD_TEXT:
        return f"{value[:MAX_RECORD_TEXT]}… ({len(value) - MAX_RECORD_TEXT} more characters)"
    if isinstance(value, dict):
        return {key: _capped(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        plain = all(isinstance(item, str | int | float) for item in value)
        return [_capped(item) for item in (value[:MAX_RECORD_ITEMS] if plain else value)]
    return value


def from_record(record: dict[str, Any]) -> SubmissionResult:
    """Rebuild a submission result written by ``to_record``."""
    exercises = [
        ExerciseResult(
            id=e["id"],
            checks=[Check.from_record(c) for c in e["checks"]],
            advice=list(e["advice"]),
            timeline=[Chunk(c["t"], base64.b64decode(c["data"])) for c in e["timeline"]],
            released=list(e.get("released", [])),
            reconnects=list(e.get("reconnects", [])),
            max_score=e["max_score"],
            duration=e["duration"],
            omitted=Omitted(**e.get("omitted", {})),
        )
        for e in record["exercises"]
    ]
    return SubmissionResult(
        record["submission"],
        exercises,
        record["duration"],
        list(record["notes"]),
        str(record.get("ungraded", "")),
    )
