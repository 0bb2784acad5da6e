"""A GitHub Actions workflow that grades a student repository on every push.

GitHub Classroom, which read points from a workflow, was retired on 28 August 2026
(GitHub community discussions #196615 and #205975); a plain workflow needs no
service. Its grading step runs the grader once, saving results outside the
checkout, writes the JUnit report, then renders the saved results as Markdown into
the job summary (``$GITHUB_STEP_SUMMARY``), and exits with the grader's status, so
the job fails when an exercise fails. The JUnit report is uploaded as an artifact
even then.

The student repository is made from the kit: it holds ``grader/`` beside the
exercises folder, and the workflow installs the grader's pinned requirements.
"""

from __future__ import annotations

import json
import shlex
import sys

from grader.platforms.requirements import pinned_requirements
from grader.platforms.templates import fill, template

WORKFLOW_TEMPLATE = "github_actions.yml"
DEFAULT_SUBMISSION = "exercises"
DEFAULT_TIMEOUT_MINUTES = 10
JUNIT_REPORT = "grader-junit.xml"
RESULTS = '"$results"'  # the grading step's shell variable naming the results folder
REQUIREMENT_INDENT = " " * 12


def quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value)


def grader_command(submission: str, *options: str) -> str:
    """A shell command running the grader on the submission with saved results."""
    start = shlex.join(["python", "-m", "grader", "--results-dir"])
    return f"{start} {RESULTS} {shlex.join([*options, '--', submission])}"


def workflow(
    submission: str = DEFAULT_SUBMISSION, timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES
) -> str:
    """The whole workflow file for a student repository holding SUBMISSION."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    requirements = " \\\n".join(f"{REQUIREMENT_INDENT}{line}" for line in pinned_requirements())
    return fill(
        template(WORKFLOW_TEMPLATE),
        {
            "TIMEOUT": str(timeout_minutes),
            "PYTHON_VERSION": quoted(version),
            "REQUIREMENTS": requirements,
            "GRADE_COMMAND": grader_command(
                submission, "--format", "junit", "--output", JUNIT_REPORT
            ),
            "SUMMARY_COMMAND": grader_command(submission, "--format", "markdown"),
            "JUNIT_REPORT": JUNIT_REPORT,
        },
    )
