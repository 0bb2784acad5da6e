"""Exercise 4's verdicts on its corpus: each typical mistake fails the check that names it.

Every folder ``tests/corpus/wrong/ex4_*`` and ``tests/corpus/right/ex4_*`` holds
one module and an ``expected.json`` (the layout ``test_corpus.py`` describes):
a wrong case names the checks that must fail and words their messages must
hold, a right case (another spelling FastAPI, Starlette or asyncio allows) must
pass every check. Each is graded in the real sandbox, as a class is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.exercises import exercise
from grader.results import ExerciseResult
from grader.runner import grade_in_process
from grader.sandbox import Limits
from tests.grader.helpers import case_spec, corpus_cases, failed_checks, graded_alone

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
EX4 = exercise("ex4")
LIMITS = Limits(timeout=3.0)
CHECKS = ["response", "content-type", "events", "stops"]


def graded(folder: Path) -> ExerciseResult:
    """The case graded in its own sandbox."""
    return graded_alone(folder, EX4, LIMITS)


def test_the_corpus_has_the_typical_mistakes_and_other_right_spellings() -> None:
    assert len(corpus_cases(EX4, "wrong")) >= 4 and len(corpus_cases(EX4, "right")) >= 3
    failing = {name for folder in corpus_cases(EX4, "wrong") for name in case_spec(folder)["fails"]}
    assert failing == set(CHECKS)


@pytest.mark.parametrize(
    "folder",
    corpus_cases(EX4, "wrong") + corpus_cases(EX4, "right"),
    ids=lambda folder: folder.name,
)
def test_a_case_folder_holds_one_documented_module(folder: Path) -> None:
    files = sorted(path.name for path in folder.iterdir() if path.name != "__pycache__")
    assert files == sorted([EX4.filename, "expected.json"])
    assert (folder / EX4.filename).read_text(encoding="utf-8").startswith('"""')
    assert case_spec(folder)["exercise"] == EX4.id


@pytest.mark.parametrize("folder", corpus_cases(EX4, "wrong"), ids=lambda folder: folder.name)
def test_a_wrong_answer_fails_the_check_that_names_its_mistake(folder: Path) -> None:
    spec = case_spec(folder)
    result = graded(folder)
    found = failed_checks(result)
    assert sorted(found) == sorted(spec["fails"]), found
    assert result.score == 0
    wanted = spec["message_contains"]  # fragments of every failing message, or per check
    if isinstance(wanted, list):
        wanted = {name: wanted for name in spec["fails"]}
    for name, fragments in wanted.items():
        for fragment in fragments:
            assert fragment in found[name], f"{fragment!r} not in: {found[name]}"


@pytest.mark.parametrize("folder", corpus_cases(EX4, "right"), ids=lambda folder: folder.name)
def test_a_right_spelling_passes_every_check(folder: Path) -> None:
    assert case_spec(folder) == {"exercise": EX4.id, "passes": True}
    result = graded(folder)
    assert result.failures() == []
    assert [check.name for check in result.checks] == CHECKS
    assert re.search(r"stopped reading the log within \d+ ms", result.checks[-1].message)


def test_the_report_counts_the_lines_read_after_the_client_left() -> None:
    # The reader fills its queue of 8 lines, takes a ninth, and waits to put it for ever; a
    # server slow to cancel the generator lets it take one line from the queue first.
    found = failed_checks(graded(CORPUS / "wrong" / "ex4_bounded_queue_reader"))
    counted = re.search(
        r"left at event \d, the endpoint went on reading the log for [\d.]+ s "
        r"\((\d+) more lines\)",
        found["stops"],
    )
    assert counted, found["stops"]
    assert int(counted.group(1)) in (9, 10), found["stops"]


def test_in_process_a_verdict_the_client_cannot_give_says_so() -> None:
    # TestClient cancels the request but never sends http.disconnect, so this right answer,
    # which waits for it, reads on in-process: the failure names the client as the reason.
    result = grade_in_process(CORPUS / "right" / "ex4_checks_is_disconnected", EX4, 3.0)
    found = failed_checks(result)
    assert list(found) == ["stops"]
    assert "the test client cannot tell the app that it left" in found["stops"]
    assert "Only the sandboxed grader" in found["stops"]
