"""The grader's verdicts on a corpus of right and wrong submissions, graded the way users grade.

Every folder under tests/corpus/wrong and tests/corpus/right holds one exercise
module (its docstring says what it does) and an ``expected.json``:
``{"exercise": "ex2", "fails": ["events"], "message_contains": [...]}`` for a
wrong case, ``{"exercise": "ex3", "passes": true}`` for a right one.
``message_contains`` is a list of fragments every failing message must hold, or
a mapping from check name to the fragments of that check's message.

The whole corpus, the reference solutions and the exercise stubs are graded in
ONE run of ``python -m grader --format json`` (sandboxed servers, several
workers), so the slow cases (endless and stalled streams) wait out their
timeout side by side.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.exercises import EXERCISE_IDS, EXERCISES, exercise

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path("tests") / "corpus"
KINDS = ("wrong", "right")
SOLUTIONS = "solutions"
STUBS = "exercises"
TIMEOUT = 5  # seconds per exercise; only endless and stalled cases use it up
JOBS = 4
RUN_BOUND = 240  # seconds the whole graded run may take before the test gives up
EXIT_SOME_FAILED = 1
MISSING = "is missing from the submission folder"
CACHE = "__pycache__"  # left by Python when a case is imported; ignored by git

# Every check of every exercise, in the order the grader reports them.
CHECKS = {
    "ex1": ["response", "content-type", "body", "chunks"],
    "ex2": ["response", "content-type", "events", "chunks"],
    "ex3": [
        "async generator",
        "response",
        "content-type",
        "prompt",
        "events",
        "streams",
        "chunks",
        "event loop",
        "default prompt",
    ],
}
# How each stub fails: its checks, and whether the message is the stub's own NotImplementedError.
STUB_FAILURES = {
    "ex1": (["response"], True),
    "ex2": (["events"], False),
    "ex3": (["async generator", "response"], True),
}


@dataclass(frozen=True)
class Case:
    """One corpus folder and what the grader must say about it."""

    kind: str
    name: str
    exercise: str
    passes: bool
    fails: tuple[str, ...]
    fragments: dict[str, tuple[str, ...]]

    @property
    def label(self) -> str:
        """The submission's name in the grader's report."""
        return str(CORPUS / self.kind / self.name)

    @property
    def folder(self) -> Path:
        """The case folder."""
        return REPO / self.label


def load_case(kind: str, folder: Path) -> Case:
    """Read a case folder's expected.json."""
    spec = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    fails = tuple(spec.get("fails", ()))
    wanted = spec.get("message_contains", [])
    fragments = (
        {name: tuple(wanted.get(name, ())) for name in fails}
        if isinstance(wanted, dict)
        else {name: tuple(wanted) for name in fails}
    )
    return Case(kind, folder.name, spec["exercise"], spec.get("passes", False), fails, fragments)


def discover(kind: str) -> list[Case]:
    """Every case of one kind for the lesson's exercises, by folder name.

    A challenge's cases are graded by that challenge's own corpus test, since the
    command line grades a challenge only when asked to.
    """
    root = REPO / CORPUS / kind
    found = [load_case(kind, folder) for folder in sorted(root.iterdir()) if folder.is_dir()]
    return [case for case in found if case.exercise in EXERCISE_IDS]


WRONG = discover("wrong")
RIGHT = discover("right")
ALL_CASES = WRONG + RIGHT


def case_id(case: Case) -> str:
    """The test id of a case: its folder name."""
    return case.name


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """Grade every case, the solutions and the stubs in one CLI run; the parsed JSON report."""
    command = [sys.executable, "-m", "grader", "--format", "json", "--no-progress"]
    command += ["--timeout", str(TIMEOUT), "--jobs", str(JOBS)]
    for kind in KINDS:
        command += ["--submissions", str(CORPUS / kind)]
    command += [SOLUTIONS, STUBS]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=RUN_BOUND, check=False
    )
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def graded(report: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Submission label -> exercise id -> that exercise as the JSON report has it."""
    return {s["submission"]: {e["id"]: e for e in s["exercises"]} for s in report["submissions"]}


def failures(result: dict[str, Any]) -> dict[str, str]:
    """The failed checks of one exercise result: name -> message."""
    return {c["name"]: c["message"] for c in result["checks"] if not c["passed"]}


def test_the_cli_reports_every_submission_once(graded: dict, report: dict) -> None:
    labels = [s["submission"] for s in report["submissions"]]
    # Every case folder is a submission, a challenge's too (graded as missing the lesson's).
    folders = [
        str(CORPUS / kind / folder.name)
        for kind in KINDS
        for folder in (REPO / CORPUS / kind).iterdir()
        if folder.is_dir()
    ]
    assert sorted(labels) == sorted([*folders, SOLUTIONS, STUBS])
    assert {c.label for c in ALL_CASES} <= set(labels)
    assert all(list(graded[label]) == list(EXERCISE_IDS) for label in labels)


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_a_case_folder_holds_one_documented_module(case: Case) -> None:
    module = exercise(case.exercise).filename
    files = sorted(p.name for p in case.folder.iterdir() if p.name != CACHE)
    assert files == sorted([module, "expected.json"])
    text = (case.folder / module).read_text(encoding="utf-8")
    assert text.startswith('"""'), f"{case.label}/{module} must open with a docstring"
    assert case.passes is (case.kind == "right")
    assert bool(case.fails) is (case.kind == "wrong")


def test_the_wrong_cases_make_every_check_fail_somewhere() -> None:
    failed = {name for case in WRONG for name in case.fails}
    assert failed == {"imports", *(name for names in CHECKS.values() for name in names)}


@pytest.mark.parametrize("case", WRONG, ids=case_id)
def test_a_wrong_case_fails_exactly_its_checks(case: Case, graded: dict) -> None:
    result = graded[case.label][case.exercise]
    failed = failures(result)
    assert not result["passed"]
    assert result["score"] == 0
    assert sorted(failed) == sorted(case.fails), failed
    for name, fragments in case.fragments.items():
        for fragment in fragments:
            assert fragment in failed[name], f"{fragment!r} not in {name} message: {failed[name]}"


@pytest.mark.parametrize("case", RIGHT, ids=case_id)
def test_a_right_case_passes_every_check(case: Case, graded: dict) -> None:
    result = graded[case.label][case.exercise]
    assert failures(result) == {}
    assert [c["name"] for c in result["checks"]] == CHECKS[case.exercise]
    assert result["passed"]
    assert result["score"] == result["max_score"]


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_the_other_exercises_of_a_case_are_reported_missing(case: Case, graded: dict) -> None:
    for ex in EXERCISES:
        if ex.id != case.exercise:
            failed = failures(graded[case.label][ex.id])
            assert list(failed) == ["imports"]
            assert failed["imports"].startswith(f"{ex.filename} {MISSING}")


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_the_reference_solution_passes_every_check(exercise_id: str, graded: dict) -> None:
    result = graded[SOLUTIONS][exercise_id]
    assert failures(result) == {}
    assert [c["name"] for c in result["checks"]] == CHECKS[exercise_id]


def stub_error(exercise_id: str) -> str:
    """The message of the NotImplementedError the exercise stub raises."""
    tree = ast.parse((REPO / STUBS / exercise(exercise_id).filename).read_text(encoding="utf-8"))
    raised = [
        node.exc.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and getattr(node.exc.func, "id", "") == "NotImplementedError"
    ]
    assert len(raised) == 1
    return raised[0]


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_a_stub_fails_with_its_own_message(exercise_id: str, graded: dict) -> None:
    failed = failures(graded[STUBS][exercise_id])
    names, raises = STUB_FAILURES[exercise_id]
    assert sorted(failed) == sorted(names), failed
    if raises:
        assert f"NotImplementedError: {stub_error(exercise_id)}" in failed["response"]
    else:
        assert "each event must end with a blank line" in failed["events"]


# --- fresh inputs: the right answers pass every time --------------------------------------

REPEATS = 20
REPEAT_BOUND = 600  # seconds for all the repeated runs in one batch


@pytest.fixture(scope="module")
def repeated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[dict]]:
    """The solutions and every right case, each graded REPEATS times with fresh inputs.

    Each repeat is a copy of its own (the report names submissions by path), all
    graded in one batch; return the JSON report and the saved records.
    """
    root = tmp_path_factory.mktemp("repeated")
    folders = [REPO / SOLUTIONS, *(case.folder for case in RIGHT)]
    labels = []
    for run in range(REPEATS):
        for folder in folders:
            copy = root / f"run-{run:02d}" / folder.name
            shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(CACHE))
            labels.append(str(copy))
    results = root / "results"
    command = [sys.executable, "-m", "grader", "--format", "json", "--no-progress"]
    command += ["--timeout", str(TIMEOUT), "--jobs", str(JOBS), "--results-dir", str(results)]
    done = subprocess.run(
        [*command, *labels],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=REPEAT_BOUND,
        check=False,
    )
    assert done.returncode == EXIT_SOME_FAILED, done.stderr  # the cases hold one module each
    records = [json.loads(path.read_text(encoding="utf-8")) for path in results.glob("*.json")]
    return json.loads(done.stdout), records


def covered(label: str) -> list[str]:
    """The exercises a repeated submission holds: all three for the solutions, else its case's."""
    name = Path(label).name
    if name == SOLUTIONS:
        return list(EXERCISE_IDS)
    return [next(case.exercise for case in RIGHT if case.name == name)]


@pytest.mark.slow
def test_right_answers_pass_twenty_runs_in_a_row_with_fresh_inputs(repeated: tuple) -> None:
    report, records = repeated
    failing = {
        f"{s['submission']}::{e['id']}": failures(e)
        for s in report["submissions"]
        for e in s["exercises"]
        if e["id"] in covered(s["submission"]) and not e["passed"]
    }
    assert failing == {}
    assert len(report["submissions"]) == REPEATS * (1 + len(RIGHT))
    # Every grading drew its own inputs: the seeds in the instructor-only details differ.
    seeds = set()
    for record in records:
        result = record.get("result", record)
        for graded_exercise in result["exercises"]:
            checks = graded_exercise["checks"]
            details = " ".join(check.get("details", "") for check in checks)
            seeds.update(re.findall(r"--seed (\d+)", details))
    assert len(seeds) == len(records)
