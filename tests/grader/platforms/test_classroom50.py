"""The Classroom 50 autograder folder, run as Classroom 50's runner runs autograder.py."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from grader.exercises import EXERCISES
from grader.platforms.__main__ import main as platforms_main
from tests.grader.platforms.support import (
    MAX_SCORE,
    SOLUTIONS,
    STUBS,
    copy_exercises,
    path_env,
    run,
    schema,
)

RESULT_SCHEMA = schema("classroom50_result_schema.json")
ASSIGNMENT = "sse"
# What the runner hands the autograder (runner.py, run_entrypoint): its identity
# variables, the bundle folder, and the standard GITHUB_* ones.
RUNNER_ENV = {
    "CLASSROOM": "fastapi-2026",
    "ASSIGNMENT": ASSIGNMENT,
    "ASSIGNMENT_TYPE": "individual",
    "USERNAME": "alice",
    "OWNER": "alice",
    "SUBMISSION_TAG": "submit/2026-11-29T12-00-00Z-abc1234",
    "COMMIT_URL": "https://github.com/org/fastapi-2026-sse-alice/commit/abc1234",
    "RELEASE_URL": "https://github.com/org/fastapi-2026-sse-alice/releases/tag/x",
    "REVIEW_URL": "https://github.com/org/fastapi-2026-sse-alice/compare/a...b",
    "GITHUB_REPOSITORY": "org/fastapi-2026-sse-alice",
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The runner's extracted bundle: CLASSROOM/autograders/ASSIGNMENT/ as written."""
    runtime = tmp_path_factory.mktemp("classroom50-runtime")
    folder = runtime / ASSIGNMENT
    assert platforms_main(["classroom50", "--output", str(folder)]) == 0
    return folder


@dataclass
class Graded:
    """What one autograder run left in the checkout."""

    status: int
    result: dict | None
    release_body: str
    stderr: str


def grade(bundle: Path, checkout: Path, tmp_path: Path) -> Graded:
    """Run autograder.py as the runner does: its Python, cwd the checkout, its env."""
    output = tmp_path / "github_output"
    output.write_text("")
    env = path_env(**RUNNER_ENV, CLASSROOM50_BUNDLE_DIR=str(bundle), GITHUB_OUTPUT=str(output))
    done = run([sys.executable, str(bundle / "autograder.py")], env=env, cwd=checkout)
    assert "Traceback" not in done.stderr, done.stderr
    result_path, body_path = checkout / "result.json", checkout / "release-body.md"
    result = json.loads(result_path.read_text()) if result_path.exists() else None
    if result is not None:
        jsonschema.validate(result, RESULT_SCHEMA)
    body = body_path.read_text() if body_path.exists() else ""
    return Graded(done.returncode, result, body, done.stderr)


def test_folder_holds_the_autograder_its_settings_and_the_grader(bundle):
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    expected = {"autograder.py", "settings.json", "requirements.txt", "runtime.json", "README.md"}
    assert expected | {"grader/__init__.py", "grader/cli.py"} <= names
    runtime = json.loads((bundle / "runtime.json").read_text())
    assert runtime["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_autograder_gives_the_solutions_full_marks(bundle, tmp_path):
    checkout = tmp_path / "checkout"
    copy_exercises(SOLUTIONS, checkout / "exercises")
    graded = grade(bundle, checkout, tmp_path)
    assert graded.status == 0, graded.stderr
    assert graded.result["score"] == graded.result["max-score"] == MAX_SCORE
    names = [test["test-name"] for test in graded.result["tests"]]
    assert names == [f"{ex.id}: {ex.title}" for ex in EXERCISES]
    assert all(test["passed"] for test in graded.result["tests"])
    assert graded.result["owner"] == "alice"
    assert graded.result["submission"] == RUNNER_ENV["SUBMISSION_TAG"]
    assert "| ex1 |" in graded.release_body


def test_autograder_scores_the_stubs_zero_and_says_why(bundle, tmp_path):
    checkout = tmp_path / "checkout"
    copy_exercises(STUBS, checkout / "exercises")
    graded = grade(bundle, checkout, tmp_path)
    assert graded.status == 0, graded.stderr
    assert graded.result["score"] == 0
    assert graded.result["max-score"] == MAX_SCORE
    for test in graded.result["tests"]:
        assert not test["passed"]
        assert test["score"] == 0
        assert test["message"] and test["message"] != "passed"
    assert "NotImplementedError" in graded.release_body


def test_autograder_runs_the_bundled_grader_never_one_in_the_checkout(bundle, tmp_path):
    checkout = tmp_path / "checkout"
    copy_exercises(STUBS, checkout / "exercises")
    fake = checkout / "grader"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("raise SystemExit(0)\n")
    graded = grade(bundle, checkout, tmp_path)
    assert graded.status == 0, graded.stderr
    assert graded.result["score"] == 0


def test_autograder_replaces_a_result_linked_into_the_checkout(bundle, tmp_path):
    checkout = tmp_path / "checkout"
    copy_exercises(STUBS, checkout / "exercises")
    outside = tmp_path / "outside.json"
    outside.write_text("untouched")
    (checkout / "result.json").symlink_to(outside)
    graded = grade(bundle, checkout, tmp_path)
    assert graded.status == 0
    assert not (checkout / "result.json").is_symlink()
    assert outside.read_text() == "untouched"


def test_autograder_reports_a_missing_submission_folder_as_an_infrastructure_error(
    bundle, tmp_path
):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    graded = grade(bundle, checkout, tmp_path)
    assert graded.status != 0  # the runner then writes its own status=error result
    assert graded.result is None
    assert "exit status 2" in graded.stderr
