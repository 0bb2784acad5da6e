"""The Gradescope bundle and the GitHub Classroom workflow, run for real on the solutions."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest
import yaml

from grader.contract import EXERCISES
from grader.platforms.__main__ import main as platforms_main
from grader.platforms.github import workflow
from grader.platforms.gradescope import build_bundle
from grader.platforms.requirements import imported_modules, pinned_requirements, requirements_txt
from grader.platforms.templates import fill

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
STUBS = REPO / "exercises"
VENV_BIN = Path(sys.executable).parent
GRADESCOPE_SCHEMA = json.loads((Path(__file__).parent / "gradescope_schema.json").read_text())
GRADING_TIMEOUT = 300  # seconds any one run_autograder or grading command may take
MAX_SCORE = sum(ex.max_score for ex in EXERCISES)


def exercise_files(folder: Path) -> list[Path]:
    """The three exercise modules of a solutions or stubs folder."""
    return [folder / ex.filename for ex in EXERCISES]


def run(args: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a command with a bound on its time, capturing its output as text."""
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=GRADING_TIMEOUT
    )


def path_env(*first: Path, **extra: str) -> dict[str, str]:
    """The environment with these folders first on PATH (the venv's Python after them)."""
    dirs = [*map(str, first), str(VENV_BIN), "/usr/bin", "/bin"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "PATH": os.pathsep.join(dirs), **extra}


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


# --- gradescope bundle --------------------------------------------------------


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
    for path in exercise_files(SOLUTIONS):
        shutil.copy2(path, autograder / "submission")
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


def fake_python(folder: Path, script: str) -> Path:
    """A folder whose python3 is a shell script, to put first on PATH."""
    folder.mkdir()
    fake = folder / "python3"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    return folder


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


# --- github classroom ---------------------------------------------------------


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> dict:
    """The workflow as the command line writes it, parsed."""
    output = tmp_path_factory.mktemp("repo") / ".github" / "workflows" / "classroom.yml"
    assert platforms_main(["github", "--output", str(output)]) == 0
    text = output.read_text()
    assert text == workflow()
    return yaml.safe_load(text)


def grader_steps(document: dict) -> list[dict]:
    """The command-grader steps of the workflow."""
    steps = document["jobs"]["run-autograding-tests"]["steps"]
    return [
        s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command")
    ]


def test_workflow_has_the_shape_github_classroom_requires(classroom):
    assert classroom["name"] == "Autograding Tests"
    assert {"push", "repository_dispatch"} <= set(classroom["on"])
    assert list(classroom["jobs"]) == ["run-autograding-tests"]
    steps = classroom["jobs"]["run-autograding-tests"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert (
        steps[1]["with"]["python-version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    )
    for pin in pinned_requirements():
        assert pin in steps[2]["run"].split()


def test_workflow_grades_each_exercise_for_its_points(classroom):
    steps = grader_steps(classroom)
    assert [s["id"] for s in steps] == [ex.id for ex in EXERCISES]
    for step, ex in zip(steps, EXERCISES, strict=True):
        inputs = step["with"]
        assert inputs["test-name"] == f"{ex.id}: {ex.title}"
        assert inputs["command"] == f"python -m grader --exercise {ex.id} exercises"
        assert inputs["max-score"] == ex.max_score
        assert inputs["timeout"] >= 1


def test_workflow_reporter_reads_every_grader_step(classroom):
    reporter = classroom["jobs"]["run-autograding-tests"]["steps"][-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    runners = reporter["with"]["runners"].split(",")
    assert runners == [s["id"] for s in grader_steps(classroom)]
    # The reporter reads each runner's result from <RUNNER ID IN CAPITALS>_RESULTS.
    assert reporter["env"] == {
        f"{r.upper()}_RESULTS": f"${{{{ steps.{r}.outputs.result }}}}" for r in runners
    }


@pytest.fixture
def student_repo(tmp_path) -> Path:
    """A student repository made from the kit: the grader and an exercises/ folder."""
    repo = tmp_path / "student"
    ignore = shutil.ignore_patterns("__pycache__", "samples")
    shutil.copytree(REPO / "grader", repo / "grader", ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", repo)
    (repo / "exercises").mkdir()
    return repo


def run_grading_steps(classroom: dict, repo: Path) -> list[int]:
    """Run each grader step's command in the repository as the action would; their exit codes."""
    codes = []
    for step in grader_steps(classroom):
        done = run(["bash", "-c", step["with"]["command"]], env=path_env(), cwd=repo)
        assert "Traceback" not in done.stderr, done.stderr  # failing is not crashing
        codes.append(done.returncode)
    return codes


def test_workflow_commands_pass_on_the_solutions(classroom, student_repo):
    for path in exercise_files(SOLUTIONS):
        shutil.copy2(path, student_repo / "exercises")
    assert run_grading_steps(classroom, student_repo) == [0] * len(EXERCISES)


def test_workflow_commands_fail_on_the_stubs(classroom, student_repo):
    for path in exercise_files(STUBS):
        shutil.copy2(path, student_repo / "exercises")
    assert run_grading_steps(classroom, student_repo) == [1] * len(EXERCISES)


# --- command line -------------------------------------------------------------


def test_command_line_help_names_both_platforms():
    done = run([sys.executable, "-m", "grader.platforms", "--help"], env=path_env(), cwd=REPO)
    assert done.returncode == 0
    assert "gradescope" in done.stdout and "github" in done.stdout


def test_command_line_rejects_a_zero_timeout(tmp_path):
    args = [sys.executable, "-m", "grader.platforms", "github", "--timeout", "0"]
    done = run([*args, "--output", str(tmp_path / "w.yml")], env=path_env(), cwd=REPO)
    assert done.returncode == 2
    assert "minutes >= 1" in done.stderr
    assert not (tmp_path / "w.yml").exists()


def test_bundle_is_the_same_for_the_same_sources(tmp_path):
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    build_bundle(first)
    build_bundle(second)
    assert first.read_bytes() == second.read_bytes()
