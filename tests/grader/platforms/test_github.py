"""The GitHub Actions workflow: its shape, and its grading step run as the runner runs it."""

from __future__ import annotations

import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from grader.exercises import EXERCISES
from grader.platforms.__main__ import main as platforms_main
from grader.platforms.github import JUNIT_REPORT, workflow
from grader.platforms.requirements import pinned_requirements
from tests.grader.platforms.support import REPO, SOLUTIONS, STUBS, copy_exercises, path_env, run

# How the runner runs a `run:` step with `shell: bash` ("Workflow syntax for GitHub
# Actions", jobs.<job_id>.steps[*].shell): the step's script in a file, then this.
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
PINNED_ACTION = r"^[\w-]+/[\w-]+@[0-9a-f]{40}$"


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    """The workflow as the command line writes it, parsed."""
    output = tmp_path_factory.mktemp("repo") / ".github" / "workflows" / "grade.yml"
    assert platforms_main(["github", "--output", str(output)]) == 0
    text = output.read_text()
    assert text == workflow()
    return yaml.safe_load(text)


def steps(document: dict) -> list[dict]:
    """The steps of the workflow's one job."""
    (job,) = document["jobs"].values()
    return job["steps"]


def step(document: dict, name: str) -> dict:
    """The step of that name."""
    return next(s for s in steps(document) if s["name"] == name)


def test_workflow_grades_on_push_with_read_only_permissions(document):
    assert {"push", "workflow_dispatch"} <= set(document["on"])
    assert document["permissions"] == {"contents": "read"}
    (job,) = document["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert job["timeout-minutes"] >= 1


def test_workflow_uses_only_pinned_official_actions(document):
    used = [s["uses"] for s in steps(document) if "uses" in s]
    assert [u.partition("@")[0] for u in used] == [
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
    ]
    for action in used:
        assert re.match(PINNED_ACTION, action), action


def test_workflow_installs_the_pins_with_the_tested_python(document):
    python = step(document, "Set up Python")["with"]["python-version"]
    assert python == f"{sys.version_info.major}.{sys.version_info.minor}"
    install = step(document, "Install the grader's pinned requirements")["run"].split()
    for pin in pinned_requirements():
        assert pin in install


def test_workflow_uploads_the_junit_report_even_when_grading_failed(document):
    upload = step(document, "Upload the JUnit report")
    assert upload["if"] == "${{ !cancelled() }}"
    assert upload["with"]["path"] == JUNIT_REPORT


@dataclass
class StepRun:
    """What running the grading step left: exit status, job summary and JUnit report."""

    status: int
    summary: str
    junit: ET.Element | None
    stderr: str


@pytest.fixture
def student_repo(tmp_path) -> Path:
    """A student repository made from the kit: the grader and an exercises/ folder."""
    repo = tmp_path / "student"
    ignore = shutil.ignore_patterns("__pycache__", "samples")
    shutil.copytree(REPO / "grader", repo / "grader", ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", repo)
    return repo


def run_grading_step(document: dict, repo: Path, tmp_path: Path) -> StepRun:
    """Run the Grade step as the runner would, with its own summary file and temp folder."""
    grade = step(document, "Grade")
    assert grade["shell"] == "bash"
    tmp_path.mkdir(exist_ok=True)
    script = tmp_path / "grade-step.sh"
    script.write_text(grade["run"])
    summary = tmp_path / "step_summary.md"
    summary.write_text("")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = path_env(GITHUB_STEP_SUMMARY=str(summary), RUNNER_TEMP=str(runner_temp), CI="true")
    done = run([*BASH, str(script)], env=env, cwd=repo)
    assert "Traceback" not in done.stderr, done.stderr
    report = repo / JUNIT_REPORT
    junit = ET.parse(report).getroot() if report.exists() else None
    return StepRun(done.returncode, summary.read_text(), junit, done.stderr)


def exercise_rows(summary: str) -> dict[str, str]:
    """Exercise id -> its table row in the job summary."""
    rows = {}
    for line in summary.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 2 and cells[1] in {ex.id for ex in EXERCISES}:
            rows[cells[1]] = line
    return rows


def test_grading_step_passes_on_the_solutions(document, student_repo, tmp_path):
    copy_exercises(SOLUTIONS, student_repo / "exercises")
    result = run_grading_step(document, student_repo, tmp_path)
    assert result.status == 0, result.stderr
    rows = exercise_rows(result.summary)
    assert sorted(rows) == [ex.id for ex in EXERCISES]
    assert all("passed" in row and "1/1" in row for row in rows.values()), result.summary
    assert result.junit is not None
    assert result.junit.get("failures") == "0"
    assert int(result.junit.get("tests")) >= len(EXERCISES)


def test_grading_step_fails_the_job_on_the_stubs(document, student_repo, tmp_path):
    copy_exercises(STUBS, student_repo / "exercises")
    result = run_grading_step(document, student_repo, tmp_path)
    assert result.status == 1
    rows = exercise_rows(result.summary)
    assert sorted(rows) == [ex.id for ex in EXERCISES], result.summary
    assert all("failed" in row and "0/1" in row for row in rows.values()), result.summary
    assert "<details>" in result.summary and "NotImplementedError" in result.summary
    assert result.junit is not None
    assert int(result.junit.get("failures")) >= len(EXERCISES)


def test_install_step_is_a_pip_command_the_pins_satisfy(document, tmp_path):
    install = step(document, "Install the grader's pinned requirements")
    assert install["shell"] == "bash"
    # Run as written but with --dry-run: the tested environment has every pin, so pip
    # resolves them without downloading or changing anything.
    script = tmp_path / "install-step.sh"
    script.write_text(install["run"].replace("pip install", "pip install --dry-run --no-index", 1))
    done = run([*BASH, str(script)], env=path_env(PIP_CONFIG_FILE=os.devnull), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Would install" not in done.stdout, done.stdout
