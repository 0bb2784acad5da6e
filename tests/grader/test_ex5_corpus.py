"""Exercise 5's verdicts on its corpus: each typical mistake fails the check that names it.

Every folder ``tests/corpus/wrong/ex5_*`` and ``tests/corpus/right/ex5_*`` holds
one module and an ``expected.json`` (the layout ``test_corpus.py`` describes):
a wrong case names the checks that must fail and words their messages must
hold, a right case (another spelling FastAPI, Starlette or the format allows)
must pass every check. Each is graded in the real sandbox, as a class is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.exercises import exercise
from grader.report.chart import OPENED, rows
from grader.report.text import render_text
from grader.report.timeline import MAX_ROWS, timeline_table
from grader.results import Chunk, ExerciseResult, from_record, to_record
from grader.runner import grade_submission
from grader.sandbox import Limits
from tests.grader.helpers import case_spec, corpus_cases, failed_checks, graded_alone

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
EX5 = exercise("ex5")
LIMITS = Limits(timeout=3.0)  # only the endless stream waits it out
CHECKS = [
    *("response", "content-type", "events", "chunks", "ids"),
    *("resume", "caught up", "unknown id"),
]


def graded(folder: Path) -> ExerciseResult:
    """The case graded in its own sandbox."""
    return graded_alone(folder, EX5, LIMITS)


def test_the_corpus_has_the_typical_mistakes_and_other_right_spellings() -> None:
    assert len(corpus_cases(EX5, "wrong")) >= 4 and len(corpus_cases(EX5, "right")) >= 3
    failing = {name for folder in corpus_cases(EX5, "wrong") for name in case_spec(folder)["fails"]}
    assert failing >= {"response", "events", "ids", "resume", "caught up", "unknown id"}
    for folder in corpus_cases(EX5, "wrong") + corpus_cases(EX5, "right"):
        files = sorted(path.name for path in folder.iterdir() if path.name != "__pycache__")
        assert files == sorted([EX5.filename, "expected.json"]), folder


@pytest.mark.parametrize("folder", corpus_cases(EX5, "wrong"), ids=lambda folder: folder.name)
def test_a_wrong_answer_fails_the_check_that_names_its_mistake(folder: Path) -> None:
    spec = case_spec(folder)
    assert spec["exercise"] == EX5.id
    assert (folder / EX5.filename).read_text(encoding="utf-8").startswith('"""')
    result = graded(folder)
    failed = failed_checks(result)
    assert sorted(failed) == sorted(spec["fails"]), failed
    assert result.score == 0
    for name, fragments in spec.get("message_contains", {}).items():
        for fragment in fragments:
            assert fragment in failed[name], f"{fragment!r} not in: {failed[name]}"


@pytest.mark.parametrize("folder", corpus_cases(EX5, "right"), ids=lambda folder: folder.name)
def test_a_right_spelling_passes_every_check(folder: Path) -> None:
    assert case_spec(folder) == {"exercise": EX5.id, "passes": True}
    result = graded(folder)
    assert result.failures() == []
    assert [check.name for check in result.checks] == CHECKS


def test_a_failure_shows_every_connection_on_one_clock() -> None:
    submission = grade_submission(CORPUS / "wrong" / "ex5_repeats_last_seen", LIMITS, (EX5,))
    result = submission.exercise(EX5.id)
    assert not result.passed
    second, third = result.reconnects  # the resumed connection, then the one once it ended
    times = [chunk.t for chunk in result.timeline]
    assert times == sorted(times) and 0 < second < third
    first = [chunk.data for chunk in result.timeline if chunk.t < second]
    resumed = [chunk.data for chunk in result.timeline if second <= chunk.t < third]
    assert first and resumed[0] == first[-1]  # it repeated the event it had ended with
    assert rows(result)[-1] == (OPENED, [0.0, second, third])
    report = render_text([submission])
    table = report[report.index("chunk by chunk:") :].splitlines()
    marks = [n for n, line in enumerate(table) if "-- connection" in line]
    assert [table[n].split("-- ")[1] for n in marks] == [
        f"connection {n} opened" for n in (1, 2, 3)
    ]
    assert f"{second * 1000:.1f}" in table[marks[1]]
    assert len(table[marks[0] + 1 : marks[1]]) == len(first)  # each connection's chunks below it
    assert len(table[marks[1] + 1 : marks[2]]) == len(resumed)
    assert from_record(to_record(submission)).exercise(EX5.id).reconnects == [second, third]


def test_a_connection_opened_among_the_chunks_left_out_is_not_marked() -> None:
    chunks = [Chunk(n / 1000, b"data: x\n\n") for n in range(MAX_ROWS + 5)]
    table = timeline_table(chunks, reconnects=[0.0105, (MAX_ROWS + 2) / 1000])
    marks = [line.split("-- ")[1] for line in table if "-- connection" in line]
    assert marks == ["connection 1 opened", "connection 2 opened"]
    assert table[-1].startswith("   ... and 5 more chunks")
