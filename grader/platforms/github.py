"""The GitHub Classroom workflow: one command-grader step per exercise, then the reporter.

Each step runs `python -m grader --exercise ID SUBMISSION`, which exits 0 only when
that exercise passed, and earns the exercise's points; the reporter sends the sum to
GitHub Classroom. Inputs follow classroom-resources/autograding-command-grader and
classroom-resources/autograding-grading-reporter.
"""

from __future__ import annotations

import json
import shlex
import sys

from grader.contract import EXERCISES, Exercise
from grader.platforms.requirements import pinned_requirements
from grader.platforms.templates import fill, template

WORKFLOW_TEMPLATE = "classroom.yml"
STEP_TEMPLATE = "classroom_step.yml"
DEFAULT_SUBMISSION = "exercises"
DEFAULT_TIMEOUT_MINUTES = 5
REQUIREMENT_INDENT = " " * 12
ENV_INDENT = " " * 10


def quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value)


def whole_points(exercise: Exercise) -> str:
    """The exercise's points as the command grader reads them: a whole number."""
    if not float(exercise.max_score).is_integer():
        raise ValueError(
            f"GitHub Classroom awards whole points; {exercise.id} is worth {exercise.max_score}"
        )
    return str(int(exercise.max_score))


def grade_command(exercise: Exercise, submission: str) -> str:
    """The shell command that grades one exercise of the submission folder."""
    return shlex.join(["python", "-m", "grader", "--exercise", exercise.id, submission])


def grader_step(exercise: Exercise, submission: str, timeout_minutes: int) -> str:
    """The command-grader step of one exercise."""
    return fill(
        template(STEP_TEMPLATE),
        {
            "TEST_NAME": quoted(f"{exercise.id}: {exercise.title}"),
            "STEP_ID": exercise.id,
            "COMMAND": quoted(grade_command(exercise, submission)),
            "TIMEOUT": str(timeout_minutes),
            "MAX_SCORE": whole_points(exercise),
        },
    )


def reporter_env(exercise: Exercise) -> str:
    """The reporter reads each step's result from the variable <STEP ID>_RESULTS."""
    expression = "${{ steps." + exercise.id + ".outputs.result }}"
    return f"{ENV_INDENT}{exercise.id.upper()}_RESULTS: {quoted(expression)}"


def workflow(
    submission: str = DEFAULT_SUBMISSION, timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES
) -> str:
    """The whole workflow file for a student repository holding SUBMISSION."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    requirements = " \\\n".join(f"{REQUIREMENT_INDENT}{line}" for line in pinned_requirements())
    steps = "".join(grader_step(ex, submission, timeout_minutes) for ex in EXERCISES)
    return fill(
        template(WORKFLOW_TEMPLATE),
        {
            "PYTHON_VERSION": quoted(version),
            "REQUIREMENTS": requirements,
            "GRADER_STEPS": steps.rstrip("\n"),
            "REPORTER_ENV": "\n".join(reporter_env(ex) for ex in EXERCISES),
            "RUNNERS": ",".join(ex.id for ex in EXERCISES),
        },
    )
