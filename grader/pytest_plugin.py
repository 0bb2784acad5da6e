"""The grader's checks as pytest tests, for courses whose tooling runs pytest.

    pytest -p grader.pytest_plugin --submission PATH [--submission PATH ...]

Each check of each exercise becomes one test item named
``PATH::ex1::chunks``. Grading never happens in pytest's own process: that
process may have imported anything (the reference solutions, a test suite's
helpers), and a sandbox forked from it would hold all of it in memory, where
submitted code finds it (``gc.get_objects()``). The plugin runs the grader's
command line in a fresh interpreter, which imports only the grader and forks
each submission's sandbox from there, and turns its JSON report into items.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import grader
from grader.settings import EXERCISE_BUDGET, TIMEOUT

OPTION = "--submission"
SAFETY_MARGIN = 120.0  # the grader enforces every deadline itself; this guards the unexpected


class CheckFailed(Exception):
    """A grader check failed; its message is the student's feedback."""


class CheckItem(pytest.Item):
    """One check of one exercise of one submission."""

    def __init__(self, *, check: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        """Fail with the check's message when the check failed."""
        if self.check.get("passed") is not True:
            raise CheckFailed(str(self.check.get("message", "")))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """Show the feedback alone, not a traceback of this plugin."""
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the item comes from, for pytest's report lines."""
        return self.path, None, self.name


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --submission, --grader-timeout and --grader-challenges."""
    group = parser.getgroup("grader", "Lesson 3 grader")
    group.addoption(
        OPTION, action="append", default=[], metavar="PATH", help="a submission folder to grade"
    )
    group.addoption(
        "--grader-timeout", type=float, default=TIMEOUT.default, help=TIMEOUT.describe()
    )
    group.addoption(
        "--grader-challenges",
        action="store_true",
        help="grade the challenge exercises beyond the lesson too",
    )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Grade the submissions and add one item per check."""
    paths = config.getoption(OPTION)
    if not paths:
        return
    for path in paths:
        if not Path(path).is_dir():
            raise pytest.UsageError(f"{OPTION} {path}: no such submission folder")
    timeout, challenges = (
        config.getoption("--grader-timeout"),
        config.getoption("--grader-challenges"),
    )
    for result in grade(paths, timeout, challenges=challenges):
        for exercise in result["exercises"]:
            for check in exercise["checks"]:
                name = f"{result['submission']}::{exercise['id']}::{check['name']}"
                items.append(CheckItem.from_parent(session, name=name, check=check))


def grade(paths: list[str], timeout: float, *, challenges: bool = False) -> list[dict[str, Any]]:
    """The grader command line's JSON results for ``paths``, graded in a fresh interpreter."""
    from grader.exercises import select

    command = [sys.executable, "-m", "grader", "--format", "json", "--no-progress"]
    command += ["--timeout", str(timeout), *(["--challenges"] if challenges else []), "--", *paths]
    # The grader this plugin came from, even where pytest found it only through its own sys.path.
    home = str(Path(grader.__file__).resolve().parents[1])
    python_path = os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH")]))
    exercises = len(select(None, challenges))
    limit = len(paths) * exercises * timeout * EXERCISE_BUDGET + SAFETY_MARGIN
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=limit,
            env={**os.environ, "PYTHONPATH": python_path},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise pytest.UsageError(f"the grader did not finish within {limit:g} s") from None
    if done.returncode not in (0, 1):
        why = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise pytest.UsageError(f"the grader failed: {why[0]}")
    return list(json.loads(done.stdout)["submissions"])
