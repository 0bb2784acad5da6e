"""The command line as instructors and the notebook run it: exit statuses, JSON, options, script.

Every test runs ``python -m grader`` (or the ``sse-grader`` console script) in a
subprocess, the way it is used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from grader.exercises import EXERCISE_IDS
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from tests.grader.helpers import (
    GRADER,
    ROOT,
    Listener,
    grader,
    make_submission,
    reference,
    report,
    without_root,
)

CONSOLE_SCRIPT = Path(sys.executable).parent / "sse-grader"
USAGE_ERROR = "python -m grader: error: "
DOCUMENTED_OPTIONS = (
    "--submissions",
    "--exercise",
    "--format",
    "--output",
    "--results-dir",
    "--regrade",
    "--jobs",
    "--timeout",
    "--memory",
    "--scratch",
    "--cpu",
    "--output-limit",
    "--allow-network",
    "--progress",
    "--no-progress",
    "--color",
    "--no-color",
    "--quiet",
)
FORMATS = ("text", "json", "gradescope", "junit", "csv")
SUBMISSION_KEYS = ["submission", "score", "max_score", "exercises"]
EXERCISE_KEYS = ["id", "passed", "score", "max_score", "checks"]
CHECK_KEYS = ["name", "passed", "message"]


def exercise_ids(document: dict[str, Any]) -> list[list[str]]:
    """The exercise ids of each submission of a JSON report."""
    return [[e["id"] for e in s["exercises"]] for s in document["submissions"]]


def is_number(value: object) -> bool:
    """True for a JSON number (bool is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def stubs_then_solutions() -> subprocess.CompletedProcess[str]:
    """One JSON run over the unsolved stubs, then the reference solutions."""
    return grader("--format", "json", "exercises", "solutions")


# --- exit statuses -----------------------------------------------------------------------


def test_every_exercise_passed_exits_0() -> None:
    done = grader("solutions")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_failed_exercise_exits_1(stubs_then_solutions: subprocess.CompletedProcess) -> None:
    assert stubs_then_solutions.returncode == 1


def test_without_a_path_the_exercises_folder_is_graded() -> None:
    done = grader("--format", "json")
    assert done.returncode == 1
    assert [s["submission"] for s in report(done)["submissions"]] == ["exercises"]


USAGE_ERRORS = {
    "no such path": ["no-such-submission"],
    "no such folder of submissions": ["--submissions", "no-such-class"],
    "empty folder of submissions": ["--submissions", "{empty}"],
    "unknown option": ["--colour", "solutions"],
    "timeout zero": ["--timeout", "0", "solutions"],
    "timeout negative": ["--timeout", "-1", "solutions"],
    "timeout not a number": ["--timeout", "soon", "solutions"],
    "timeout nan": ["--timeout", "nan", "solutions"],
    "timeout infinite": ["--timeout", "inf", "solutions"],
    "unknown exercise": ["--exercise", "ex99", "solutions"],
    "unknown format": ["--format", "xml", "solutions"],
    "no jobs": ["--jobs", "0", "solutions"],
    "gradescope for two, no folder": ["--format", "gradescope", "solutions", "exercises"],
    "gradescope for a class, to a file": [
        "--format",
        "gradescope",
        "--submissions",
        "grader/samples",
        "--output",
        "README.md",
    ],
    "a report into a folder": ["--output", "grader", "solutions"],
    "results in a file": ["--results-dir", "README.md", "solutions"],
    "a report under a file": ["--output", "README.md/grades.csv", "solutions"],
    "results under a file": ["--results-dir", "README.md/results", "solutions"],
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_a_usage_error_exits_2_with_one_line(case: str, tmp_path: Path) -> None:
    args = [arg.replace("{empty}", str(tmp_path)) for arg in USAGE_ERRORS[case]]
    done = grader(*args, timeout=30)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("\n"), done.stderr
    assert done.stderr.startswith(USAGE_ERROR)


# --- the JSON report ---------------------------------------------------------------------


def test_json_is_all_that_is_printed(stubs_then_solutions: subprocess.CompletedProcess) -> None:
    report(stubs_then_solutions)
    assert stubs_then_solutions.stderr.count("\n") == 1  # the batch's summary line
    assert stubs_then_solutions.stderr.startswith("python -m grader: 2 submissions")


def test_json_has_one_entry_per_path_in_the_order_given(
    stubs_then_solutions: subprocess.CompletedProcess,
) -> None:
    document = report(stubs_then_solutions)
    assert list(document) == ["submissions"]
    assert [s["submission"] for s in document["submissions"]] == ["exercises", "solutions"]
    assert exercise_ids(document) == [list(EXERCISE_IDS)] * 2


def test_json_keys_and_types_are_the_documented_ones(
    stubs_then_solutions: subprocess.CompletedProcess,
) -> None:
    for submission in report(stubs_then_solutions)["submissions"]:
        assert list(submission) == SUBMISSION_KEYS
        assert isinstance(submission["submission"], str)
        assert is_number(submission["score"]) and is_number(submission["max_score"])
        for exercise in submission["exercises"]:
            assert list(exercise) == EXERCISE_KEYS
            assert isinstance(exercise["passed"], bool)
            assert is_number(exercise["score"]) and is_number(exercise["max_score"])
            assert exercise["checks"], exercise
            for check in exercise["checks"]:
                assert list(check) == CHECK_KEYS
                assert isinstance(check["name"], str) and isinstance(check["message"], str)
                assert isinstance(check["passed"], bool)


def test_json_scores_agree_with_the_verdicts(
    stubs_then_solutions: subprocess.CompletedProcess,
) -> None:
    stubs, solutions = report(stubs_then_solutions)["submissions"]
    assert [e["passed"] for e in stubs["exercises"]] == [False] * 3
    assert [e["passed"] for e in solutions["exercises"]] == [True] * 3
    for submission in (stubs, solutions):
        for exercise in submission["exercises"]:
            all_passed = all(c["passed"] for c in exercise["checks"])
            assert exercise["passed"] == all_passed
            assert exercise["score"] == (exercise["max_score"] if all_passed else 0)
        assert submission["score"] == sum(e["score"] for e in submission["exercises"])
        assert submission["max_score"] == sum(e["max_score"] for e in submission["exercises"])


# --- options -----------------------------------------------------------------------------


def test_output_writes_the_report_to_a_file_and_nothing_to_stdout(
    tmp_path: Path, stubs_then_solutions: subprocess.CompletedProcess
) -> None:
    target = tmp_path / "reports" / "grades.json"
    done = grader("--format", "json", "--output", str(target), "solutions")
    assert done.returncode == 0
    assert done.stdout == ""
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["submissions"] == report(stubs_then_solutions)["submissions"][1:]


def test_help_mentions_every_option_format_and_exit_status() -> None:
    done = grader("--help")
    assert done.returncode == 0
    missing = [option for option in DOCUMENTED_OPTIONS if option not in done.stdout]
    assert missing == []
    assert all(fmt in done.stdout for fmt in FORMATS)
    assert "exit status" in done.stdout and "130 interrupted" in done.stdout


@pytest.mark.timeout(120)
def test_exercise_grades_that_exercise_only(tmp_path: Path) -> None:
    """ex2 and ex3 phone a listener when imported: with --exercise ex1 they never are."""
    with Listener() as listener:
        phone = f"import socket\nsocket.create_connection(('127.0.0.1', {listener.port})).close()\n"
        folder = make_submission(
            tmp_path / "student",
            {ex: reference(ex) + "\n" + phone for ex in (EX2, EX3)},
        )
        narrowed = grader("--format", "json", "--allow-network", "--exercise", "ex1", str(folder))
        calls_narrowed = listener.connections
        everything = grader("--format", "json", "--allow-network", str(folder))
        calls_everything = listener.connections - calls_narrowed
    assert narrowed.returncode == everything.returncode == 0
    assert exercise_ids(report(narrowed)) == [[EX1.id]]
    assert calls_narrowed == 0
    assert exercise_ids(report(everything)) == [list(EXERCISE_IDS)]
    assert calls_everything == 2


def test_the_console_script_grades_like_the_module(
    stubs_then_solutions: subprocess.CompletedProcess,
) -> None:
    assert CONSOLE_SCRIPT.exists(), f"{CONSOLE_SCRIPT.name} is missing: run pip install -e ."
    by_script = grader("--format", "json", "solutions", command=(str(CONSOLE_SCRIPT),))
    assert by_script.returncode == 0
    by_module = report(stubs_then_solutions)["submissions"][1:]
    assert report(by_script)["submissions"] == by_module


def test_a_sandbox_folder_the_jail_cannot_reach_is_a_usage_error(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("only a grader running as root hands its sandboxes to another user")
    private = tmp_path / "private"
    (private / "tmp").mkdir(parents=True)
    private.chmod(0o700)
    done = grader("solutions", env={**os.environ, "TMPDIR": str(private / "tmp")})
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{private} is not searchable by others" in done.stderr
    assert "Set TMPDIR to a folder that is (such as /tmp)" in done.stderr


def test_without_root_a_private_temporary_folder_is_fine(tmp_path: Path) -> None:
    private = tmp_path / "private"
    (private / "tmp").mkdir(mode=0o700, parents=True)
    private.chmod(0o700)
    prefix = without_root() if os.getuid() == 0 else ()
    env = {**os.environ, "TMPDIR": str(private / "tmp")}
    done = grader("solutions", "--format", "csv", env=env, command=(*prefix, *GRADER))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "solutions,1,1,1,3,3"


# --- after a batch -----------------------------------------------------------------------

STUB_EX2 = (ROOT / "exercises" / EX2.filename).read_text(encoding="utf-8")
GRADESCOPE_SCHEMA = json.loads((Path(__file__).parent / "gradescope_schema.json").read_text())


@pytest.fixture
def two_students(tmp_path: Path) -> Path:
    """A class of two: ada is right throughout, ben left exercise 2 as the stub."""
    make_submission(tmp_path / "class" / "ada")
    make_submission(tmp_path / "class" / "ben", {EX2: STUB_EX2})
    return tmp_path / "class"


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    """The last line a run wrote on stderr."""
    lines = done.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    return lines[-1]


def full_marks(document: dict[str, Any]) -> int:
    """How many submissions of a JSON report scored every point."""
    return sum(s["score"] == s["max_score"] for s in document["submissions"])


def test_a_batch_ends_with_one_line_saying_what_happened(two_students: Path) -> None:
    done = grader("--format", "json", "--submissions", str(two_students))
    assert done.returncode == 1
    full = full_marks(report(done))
    assert full == 1
    assert done.stderr.count("\n") == 1
    assert done.stderr == (
        f"python -m grader: 2 submissions (2 graded): {full} with full marks, "
        "0 could not be graded; wrote the report to stdout\n"
    )


def test_a_render_only_run_says_what_it_wrote(two_students: Path, tmp_path: Path) -> None:
    results, output = tmp_path / "results", tmp_path / "grades.csv"
    args = ["--submissions", str(two_students), "--results-dir", str(results)]
    first = grader(*args, "--format", "csv", "--output", str(output))
    assert last_line(first).endswith(f"; wrote {output}")
    written = output.read_text(encoding="utf-8")
    output.unlink()
    again = grader(*args, "--format", "csv", "--output", str(output))
    assert again.returncode == first.returncode == 1
    assert again.stdout == ""
    assert again.stderr == (
        f"python -m grader: wrote {output} (2 submissions, all reused from {results}; "
        "1 with full marks, 0 could not be graded)\n"
    )
    assert output.read_text(encoding="utf-8") == written


def test_quiet_leaves_stderr_empty_and_one_folder_prints_only_its_report(
    two_students: Path,
) -> None:
    quiet = grader("--format", "json", "--quiet", "--submissions", str(two_students))
    assert quiet.returncode == 1 and quiet.stderr == ""
    one = grader("--format", "json", str(two_students / "ada"))
    assert one.returncode == 0 and one.stderr == ""
    report(one)


def test_gradescope_for_a_batch_writes_one_results_json_per_submission(
    two_students: Path, tmp_path: Path
) -> None:
    other = make_submission(tmp_path / "elsewhere" / "ada", {EX2: STUB_EX2})
    folders = [two_students / "ada", two_students / "ben", other]
    target = tmp_path / "gradescope"
    done = grader("--format", "gradescope", "--output", str(target), *map(str, folders))
    assert done.returncode == 1
    assert done.stdout == ""
    assert last_line(done).endswith(f"; wrote 3 results.json under {target}")
    written = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert written == ["ada-2/results.json", "ada/results.json", "ben/results.json"]
    as_json = report(grader("--format", "json", *map(str, folders)))["submissions"]
    for name, expected in zip(["ada", "ben", "ada-2"], as_json, strict=True):
        document = json.loads((target / name / "results.json").read_text(encoding="utf-8"))
        jsonschema.validate(document, GRADESCOPE_SCHEMA)
        assert document["score"] == expected["score"]


def test_gradescope_for_one_submission_still_prints_one_document() -> None:
    done = grader("--format", "gradescope", "solutions")
    assert done.returncode == 0 and done.stderr == ""
    document = json.loads(done.stdout)
    jsonschema.validate(document, GRADESCOPE_SCHEMA)
    assert document["score"] == len(EXERCISE_IDS)
