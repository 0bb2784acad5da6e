"""What an exercise is to the grader: its contract, how its server is set up, how it is graded.

An exercise module (``grader/exercises/exN_<name>.py``) subclasses ``Exercise``
with its two hooks and sets a module-level ``EXERCISE``; the registry
(``grader.exercises``) finds it there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.grading import Target
    from grader.probe import Probe
    from grader.results import ExerciseResult


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it lives, what it serves, its hint, and its hooks.

    ``hint`` is the lesson's own hint (or, for a challenge, the full hint), shown
    once the same check keeps failing; ``nudges`` map a check's name to where to
    look when that check of this exercise fails (the generic ones are in
    grader/hints.py). ``uses_feed``: the exercise is served with the grader's
    socket feed; its server is forked before the inputs' seed is drawn, and it is
    graded first (grader/runner.py).
    """

    id: str
    module: str
    title: str
    method: str
    path: str
    media_type: str
    hint: str
    max_score: float = 1.0
    challenge: bool = False
    nudges: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    uses_feed: bool = False
    # Where the endpoint must read its data when a request comes in (``messages``), and
    # the module's own data, which the grader replaces: an answer that is that data
    # did not read it.
    data_source: str = ""
    data_default: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        """The file a submission folder holds for this exercise."""
        return f"{self.module}.py"

    @property
    def number(self) -> int:
        """The exercise's number, from its id (``ex12`` is 12): the registry's order."""
        return int(self.id.removeprefix("ex"))

    def serve(self, module: ModuleType, feed_fd: int | None) -> Probe:
        """The module's app behind the grader's probe, with the grader's data in place of its own.

        Runs inside the sandboxed server, after the module was imported.
        """
        raise NotImplementedError(f"{self.id} does not say how its app is served")

    def grade(self, target: Target) -> ExerciseResult:
        """Every check of the exercise, against the app ``target`` talks to."""
        raise NotImplementedError(f"{self.id} has no checks")
