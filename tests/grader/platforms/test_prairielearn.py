"""The PrairieLearn question: its info.json, and its entrypoint run as PrairieLearn runs it."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import jsonschema
import pytest

from grader.exercises import EXERCISES
from grader.platforms.__main__ import main as platforms_main
from grader.platforms.requirements import requirements_txt
from grader.report.prairielearn import (
    CUT_NOTE,
    LIMIT_BYTES,
    MESSAGE_BYTES,
    OUTPUT_BYTES,
    clip,
    render_prairielearn,
)
from grader.results import Check, Chunk, ExerciseResult, SubmissionResult
from tests.grader.platforms.support import (
    REPO,
    SOLUTIONS,
    STUBS,
    copy_exercises,
    fake_python,
    path_env,
    run,
    schema,
)

RESULTS_SCHEMA = schema("prairielearn_results_schema.json")
IMAGE = "course/sse-grader:2026"
QUESTION_UUID = "5b0c3e6e-6f0b-4d8e-9a51-2f1d8f1a6c11"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """The folder the command line writes."""
    output = tmp_path_factory.mktemp("prairielearn")
    args = ["prairielearn", "--output", str(output), "--image", IMAGE, "--timeout", "90"]
    assert platforms_main([*args, "--uuid", QUESTION_UUID]) == 0
    return output


def test_info_json_turns_external_grading_on_with_the_network_off(written):
    info = json.loads((written / "question" / "info.json").read_text())
    assert info["uuid"] == QUESTION_UUID
    assert info["gradingMethod"] == "External"
    assert info["externalGradingOptions"] == {
        "enabled": True,
        "image": IMAGE,
        "entrypoint": "/grade/tests/grade.sh",
        "timeout": 90,
        "enableNetworking": False,
    }


def test_question_asks_for_the_three_modules(written):
    html = (written / "question" / "question.html").read_text()
    names = ", ".join(ex.filename for ex in EXERCISES)
    assert f'<pl-file-upload file-names="{names}">' in html
    assert "<pl-external-grader-results>" in html


def test_image_installs_the_pins_and_the_grader_when_built(written):
    image = written / "image"
    dockerfile = (image / "Dockerfile").read_text()
    assert f"FROM python:{sys.version_info.major}.{sys.version_info.minor}-slim" in dockerfile
    assert "--requirement /tmp/sse-grader/requirements.txt" in dockerfile
    assert (image / "requirements.txt").read_text() == requirements_txt()
    assert (image / "pyproject.toml").is_file() and (image / "grader" / "cli.py").is_file()


def test_entrypoint_installs_nothing(written):
    script = (written / "question" / "tests" / "grade.sh").read_text()
    commands = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"\b(pip3?|ensurepip|apt(-get)?|conda|uv|curl|wget)\b", commands)


@pytest.fixture
def grade_root(written, tmp_path) -> Path:
    """A folder laid out like PrairieLearn's /grade: the question's tests/, student/."""
    root = tmp_path / "grade"
    shutil.copytree(written / "question" / "tests", root / "tests")
    (root / "student").mkdir()
    return root


def run_entrypoint(root: Path, *first_on_path: Path, **extra: str) -> dict:
    """Run the entrypoint as PrairieLearn does; the results.json it left, validated."""
    # The image has this kit's grader installed; here it is importable from the kit.
    env = path_env(*first_on_path, GRADE_ROOT=str(root), PYTHONPATH=str(REPO), **extra)
    done = run([str(root / "tests" / "grade.sh")], env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    text = (root / "results" / "results.json").read_text()
    assert len(text.encode()) <= LIMIT_BYTES
    document = json.loads(text)
    jsonschema.validate(document, RESULTS_SCHEMA)
    return document


def test_entrypoint_gives_the_solutions_full_marks(grade_root):
    copy_exercises(SOLUTIONS, grade_root / "student")
    document = run_entrypoint(grade_root)
    assert document["gradable"] is True
    assert document["score"] == 1
    assert [t["points"] for t in document["tests"]] == [ex.max_score for ex in EXERCISES]
    assert [t["name"] for t in document["tests"]] == [f"{ex.id}: {ex.title}" for ex in EXERCISES]


def test_entrypoint_scores_the_stubs_zero_with_feedback(grade_root):
    copy_exercises(STUBS, grade_root / "student")
    document = run_entrypoint(grade_root)
    assert document["gradable"] is True
    assert document["score"] == 0
    for test in document["tests"]:
        assert test["points"] == 0 and test["max_points"] == 1
        assert test["message"].startswith("Failed: ")
        assert "[FAIL]" in test["output"]
    charted = [t for t in document["tests"] if t.get("images")]
    assert charted, "no stub's timeline was charted"
    for test in charted:
        (image,) = test["images"]
        assert image["url"].startswith("data:image/png;base64,iVBORw0KGgo")  # a PNG


def test_entrypoint_grades_a_broken_submission_without_crashing(grade_root):
    copy_exercises(SOLUTIONS, grade_root / "student")
    (grade_root / "student" / EXERCISES[0].filename).write_text("def broken(:\n")
    document = run_entrypoint(grade_root)
    assert document["gradable"] is True
    scores = [t["points"] for t in document["tests"]]
    assert scores == [0, *[ex.max_score for ex in EXERCISES[1:]]]
    assert document["score"] == pytest.approx(2 / 3)
    assert "line 1" in document["tests"][0]["output"]


def test_entrypoint_marks_a_run_that_cannot_grade_as_not_gradable(grade_root, tmp_path):
    broken = fake_python(tmp_path / "broken-bin", "echo 'no encodings' >&2\nexit 3")
    document = run_entrypoint(grade_root, broken)
    assert document["gradable"] is False
    assert "exit status 3" in document["message"]


def test_entrypoint_marks_a_hung_run_as_not_gradable(grade_root, tmp_path):
    hanging = fake_python(tmp_path / "hanging-bin", "exec sleep 120")
    document = run_entrypoint(grade_root, hanging, GRADING_TIMEOUT="1")
    assert document["gradable"] is False
    assert "longer than 1 seconds" in document["message"]


def test_entrypoint_replaces_a_results_json_forged_while_grading(grade_root, tmp_path):
    target = tmp_path / "outside.json"
    target.write_text("untouched")
    forged = grade_root / "results" / "results.json"
    forging = fake_python(tmp_path / "forging-bin", f"ln -s {target} {forged}\nexit 0")
    document = run_entrypoint(grade_root, forging)
    assert document["gradable"] is False
    assert not forged.is_symlink()
    assert target.read_text() == "untouched"


def flooded_exercise(exercise_id: str, size: int) -> ExerciseResult:
    """An exercise whose messages and timeline hold far more than PrairieLearn takes."""
    noisy = '\x00\U0001f4a5"<&' * (size // 5)  # characters JSON spells with the most bytes
    checks = [Check(f"check {n}", False, noisy, details=noisy) for n in range(5)]
    timeline = [Chunk(n / 1000, noisy.encode()[:4096]) for n in range(500)]
    return ExerciseResult(exercise_id, checks, advice=[noisy] * 5, timeline=timeline)


def test_results_stay_under_the_size_limit_whatever_the_submission_prints():
    flooded = SubmissionResult(
        "student",
        [flooded_exercise(ex.id, 2_000_000) for ex in EXERCISES],
        notes=["\U0001f4a5" * 1_000_000],
    )
    text = render_prairielearn([flooded])
    assert len(text.encode()) <= LIMIT_BYTES
    document = json.loads(text)
    jsonschema.validate(document, RESULTS_SCHEMA)
    for text_field in [document["output"], *(t["output"] for t in document["tests"])]:
        assert len(json.dumps(text_field)) <= OUTPUT_BYTES
    for text_field in [document["message"], *(t["message"] for t in document["tests"])]:
        assert len(json.dumps(text_field)) <= MESSAGE_BYTES


@pytest.mark.parametrize("character", ["a", "\x00", "\U0001f4a5", '"'])
def test_clip_keeps_the_longest_prefix_that_fits_its_json_budget(character):
    text = character * 100_000
    clipped = clip(text, 1_000)
    assert len(json.dumps(clipped)) <= 1_000
    assert clipped.endswith(CUT_NOTE)
    kept = clipped.removesuffix(CUT_NOTE)
    assert text.startswith(kept)
    assert len(json.dumps(kept + character + CUT_NOTE)) > 1_000  # one more would not fit
    assert clip("short", 1_000) == "short"


def test_grader_refuses_a_batch_in_prairielearn_format(tmp_path):
    args = [sys.executable, "-m", "grader", "--format", "prairielearn", str(SOLUTIONS), str(STUBS)]
    done = run(args, env=path_env(), cwd=REPO)
    assert done.returncode == 2
    assert "--format prairielearn reports one submission" in done.stderr
    assert "Traceback" not in done.stderr
