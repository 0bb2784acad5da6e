"""The Gradescope bundle, run as Gradescope runs it: setup once, run_autograder per submission."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest

from grader.exercises import EXERCISES
from grader.platforms.__main__ import main as platforms_main
from grader.platforms.gradescope import build_bundle
from grader.platforms.requirements import imported_modules, pinned_requirements, requirements_txt
from grader.platforms.templates import fill
from tests.grader.platforms.support import (
    MAX_SCORE,
    SOLUTIONS,
    copy_exercises,
    fake_python,
    path_env,
    run,
    schema,
)

GRADESCOPE_SCHEMA = schema("gradescope_schema.json")


# --- requirements -------------------------------------------------------------


def test_imported_modules_reads_absolute_imports_only():
    source = "import os.path, anyio\nfrom fastapi.responses import X\nfrom . import sibling\n"
    assert imported_modules(source) == {"os", "anyio", "fastapi"}


def test_requirements_pin_the_runtime_stack_to_installed_versions():
    pins = dict(line.split("==") for line in pinned_requirements())
    for name in ("fastapi", "starlette", "httpx2", "uvicorn", "anyio", "pydantic", "h11"):
        assert pins[name] == metadata.version(name), name
    for tooling in ("jupyterlab", "nbclient", "pytest", "ruff", "playwright", "jsonschema"):
        assert tooling not in pins


def test_fill_refuses_a_template_with_an_unfilled_placeholder():
    assert fill("a @X@ b", {"X": "1"}) == "a 1 b"
    with pytest.raises(KeyError, match="Y"):
        fill("a @X@ @Y@", {"X": "1"})


# --- the bundle ---------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The autograder zip, built by the command line as an instructor would."""
    output = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    assert platforms_main(["gradescope", "--output", str(output)]) == 0
    return output


@pytest.fixture
def autograder(bundle, tmp_path) -> Path:
    """A folder laid out like Gradescope's /autograder, the bundle unpacked in source/."""
    root = tmp_path / "autograder"
    for name in ("source", "submission", "results"):
        (root / name).mkdir(parents=True)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the mode bits
            (root / "source" / info.filename).chmod(info.external_attr >> 16 & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    return root


def run_autograder(root: Path, *first_on_path: Path, **extra: str) -> dict:
    """Run run_autograder as Gradescope does and return the results.json it left."""
    env = path_env(*first_on_path, AUTOGRADER_ROOT=str(root), **extra)
    done = run([str(root / "run_autograder")], env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    document = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(document, GRADESCOPE_SCHEMA)
    return document


def test_bundle_has_the_scripts_at_its_root_and_no_samples_or_caches(bundle):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        requirements = archive.read("requirements.txt").decode()
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].external_attr >> 16 & stat.S_IXUSR, f"{script} not executable"
    assert {"pyproject.toml", "README.md", "grader/__init__.py", "grader/results.py"} <= set(infos)
    assert "grader/report/__init__.py" in infos
    assert not [n for n in infos if "samples/" in n or "__pycache__" in n or n.endswith(".pyc")]
    assert requirements == requirements_txt()


def test_bundle_scripts_are_valid_bash_and_setup_installs_the_pins(autograder):
    source = autograder / "source"
    for script in ("setup.sh", "run_autograder"):
        done = run(["bash", "-n", str(source / script)], env=path_env(), cwd=source)
        assert done.returncode == 0, done.stderr
    setup = (source / "setup.sh").read_text()
    assert 'pip install "${PIP_FLAGS[@]}" --requirement "$SOURCE/requirements.txt"' in setup
    assert 'pip install "${PIP_FLAGS[@]}" --no-deps "$SOURCE"' in setup


def test_run_autograder_grades_the_solutions_with_full_marks(autograder):
    copy_exercises(SOLUTIONS, autograder / "submission")
    document = run_autograder(autograder)
    assert document["score"] == MAX_SCORE, document["output"]
    scored = [t for t in document["tests"] if t["visibility"] == "visible"]
    assert [t["status"] for t in scored] == ["passed"] * len(EXERCISES)


def test_run_autograder_on_an_empty_submission_reports_each_exercise_failed(autograder):
    document = run_autograder(autograder)
    assert document["score"] == 0
    scored = [t for t in document["tests"] if t["visibility"] == "visible"]
    assert [t["status"] for t in scored] == ["failed"] * len(EXERCISES)


def test_run_autograder_writes_a_zero_score_when_the_grader_refuses_to_run(autograder):
    (autograder / "submission").rmdir()  # the grader exits 2: no such submission folder
    document = run_autograder(autograder)
    assert document["score"] == 0
    assert "grading stopped with exit status 2" in document["output"]


def test_run_autograder_writes_a_zero_score_when_python_is_broken(autograder, tmp_path):
    broken = fake_python(
        tmp_path / "broken-bin", "echo 'Fatal Python error: no encodings' >&2\nexit 3"
    )
    document = run_autograder(autograder, broken)
    assert document["score"] == 0
    assert "grading stopped with exit status 3" in document["output"]


def test_run_autograder_writes_a_zero_score_when_grading_hangs(autograder, tmp_path):
    hanging = fake_python(tmp_path / "hanging-bin", "exec sleep 120")
    document = run_autograder(autograder, hanging, GRADING_TIMEOUT="1")
    assert document["score"] == 0
    assert "grading took longer than 1 seconds" in document["output"]


def test_run_autograder_replaces_a_results_json_forged_while_grading(autograder, tmp_path):
    target = tmp_path / "outside.json"
    target.write_text("untouched")
    forged = autograder / "results" / "results.json"
    forging = fake_python(tmp_path / "forging-bin", f"ln -s {target} {forged}\nexit 0")
    document = run_autograder(autograder, forging)
    assert document["score"] == 0
    assert not forged.is_symlink()
    assert target.read_text() == "untouched"


def test_bundle_is_the_same_for_the_same_sources(tmp_path):
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    build_bundle(first)
    build_bundle(second)
    assert first.read_bytes() == second.read_bytes()
