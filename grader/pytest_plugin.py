"""The grader's checks as pytest tests, for courses whose tooling runs pytest.

    pytest -p grader.pytest_plugin --submission PATH [--submission PATH ...]

Each check of each exercise becomes one test item named
``PATH::ex1::chunks``. Grading happens here, in pytest's own process, through
the same sandboxed runner as the command line: the submitted code runs in its
jailed server, so nothing it does can touch pytest or its reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.batch import Job, run_batch
from grader.results import Check
from grader.sandbox import Limits

OPTION = "--submission"


class CheckFailed(Exception):
    """A grader check failed; its message is the student's feedback."""


class CheckItem(pytest.Item):
    """One check of one exercise of one submission."""

    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        """Fail with the check's message when the check failed."""
        if not self.check.passed:
            raise CheckFailed(self.check.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """Show the feedback alone, not a traceback of this plugin."""
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the item comes from, for pytest's report lines."""
        return self.path, None, self.name


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --submission and --grader-timeout."""
    group = parser.getgroup("grader", "Lesson 3 grader")
    group.addoption(
        OPTION, action="append", default=[], metavar="PATH", help="a submission folder to grade"
    )
    group.addoption(
        "--grader-timeout", type=float, default=10.0, help="time limit per exercise (seconds)"
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
    jobs = [Job(path, Path(path)) for path in paths]
    limits = Limits(timeout=config.getoption("--grader-timeout"))
    for result in run_batch(jobs, limits, workers=len(jobs)):
        for exercise in result.exercises:
            for check in exercise.checks:
                name = f"{result.submission}::{exercise.id}::{check.name}"
                items.append(CheckItem.from_parent(session, name=name, check=check))
