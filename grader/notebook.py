"""Grading from a notebook: ``check("ex1")`` shows the grader's feedback for one exercise.

In JupyterLab the feedback renders as HTML (a ✓ or ✗ row per check, expected and
received side by side, the timeline as a chart, a nudge and the lesson's hint);
a plain-text front end gets the text report of that one exercise.
``check_all()`` shows the lesson's exercises as a scoreboard (``challenges=True``
adds the challenges beyond it); ``check("ex4")`` grades a challenge alone.

The student's code never runs in the kernel: a grader process kept for the
kernel's lifetime (grader/check_server.py) grades it, each exercise served by a
sandboxed process exactly as in batch grading, and hands back the structured
result. A hanging or crashing exercise never takes the kernel down with it.
Failures are counted (see grader/hints.py) so the lesson's full hint opens
after a few.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.check_server import CheckServer
from grader.exercises import exercise, select
from grader.hints import FailureLog, HintState, first_time
from grader.results import Chunk, ExerciseResult, failed_exercise
from grader.settings import OPEN_AFTER, TIMEOUT

HINT_INDENT = " " * 6  # under the exercise's line, as the text report indents its details
WARM_UP_EXIT_WAIT = 30.0  # seconds exit waits for the renderers' warm-up to finish loading


@dataclass(frozen=True)
class Feedback:
    """One graded exercise as the notebook shows it: HTML in JupyterLab, else text."""

    result: ExerciseResult
    hints: HintState

    @property
    def passed(self) -> bool:
        """True when every check of the exercise passed."""
        return self.result.passed

    def _repr_html_(self) -> str:
        from grader.report.html import render_exercise

        return render_exercise(self.result, self.hints)

    def __repr__(self) -> str:
        return exercise_text(self.result, self.hints)


@dataclass(frozen=True)
class Scoreboard:
    """Several graded exercises: a scoreboard in JupyterLab, else the text of each."""

    feedback: tuple[Feedback, ...]

    @property
    def passed(self) -> bool:
        """True when every exercise passed."""
        return all(f.passed for f in self.feedback)

    def _repr_html_(self) -> str:
        from grader.report.html import render_scoreboard

        results = [f.result for f in self.feedback]
        return render_scoreboard(results, [f.hints for f in self.feedback])

    def __repr__(self) -> str:
        return "\n\n".join(repr(f) for f in self.feedback)


def exercise_text(result: ExerciseResult, hints: HintState) -> str:
    """The text report of one exercise (no batch header, summary or total), then its hints."""
    from grader.report.text import Style, exercise_lines

    lines = exercise_lines(result, Style(color=False))
    if hints.open:
        lines.append(f"{HINT_INDENT}Hint (lesson 3): {hints.hint}")
    elif hints.failed:
        lines.append(
            f"{HINT_INDENT}(the lesson's hint shows after {OPEN_AFTER} failures of the same check)"
        )
    return "\n".join(lines)


def check(
    exercise_id: str,
    folder: str | os.PathLike[str] = ".",
    timeout: float = TIMEOUT.default,
    *,
    log: FailureLog | None = None,
) -> Feedback:
    """Grade one exercise of the modules in ``folder``; its feedback, to display."""
    return grade_exercises((exercise_id,), folder, timeout, log)[0]


def check_all(
    folder: str | os.PathLike[str] = ".",
    timeout: float = TIMEOUT.default,
    *,
    challenges: bool = False,
    log: FailureLog | None = None,
) -> Scoreboard:
    """Grade the lesson's exercises (and the challenges, if asked) of the modules in ``folder``.

    A scoreboard, to display.
    """
    chosen = [ex.id for ex in select(None, challenges)]
    return Scoreboard(tuple(grade_exercises(chosen, folder, timeout, log)))


def grade_exercises(
    exercise_ids: Sequence[str],
    folder: str | os.PathLike[str],
    timeout: float,
    log: FailureLog | None,
) -> list[Feedback]:
    """Grade in the grader process; count each result's failures; the feedback, in order."""
    chosen = [exercise(i) for i in exercise_ids]  # an unknown id fails here, naming the valid ones
    results, trouble = GRADER.grade(
        Path(folder).resolve(), list(exercise_ids), timeout, while_waiting=_warm_up_renderers
    )
    if trouble is not None:  # not the student's mistake: nothing to count
        return [
            Feedback(r, first_time(r))
            for r in (failed_exercise(ex, "graded", trouble) for ex in chosen)
        ]
    counter = log or FailureLog()
    return [Feedback(r, counter.record(folder, r)) for r in results]


def _warm_up_renderers() -> None:
    """Load what a report needs (matplotlib, its fonts, the exercises) once, while nothing waits."""
    with _WARMING_UP:
        if not _WARMED_UP.is_set():
            from grader.exercises import ALL  # noqa: F401 (the registry imports every exercise)

            # matplotlib looks IPython up in sys.modules as it loads: waiting here for an
            # import of IPython that another thread has begun keeps it from finding half of it.
            with contextlib.suppress(ImportError):
                import IPython  # noqa: F401
            from grader.report.chart import timeline_png

            with contextlib.suppress(ImportError):  # without matplotlib: a text timeline
                timeline_png(ExerciseResult("ex1", timeline=[Chunk(0.0, b"")]))
            _WARMED_UP.set()


_WARMING_UP = threading.Lock()
_WARMED_UP = threading.Event()

# The kernel's grader process (grader/check_server.py). It starts loading the grader, and the
# kernel matplotlib, as soon as this module is imported, so that even the first check answers
# at once.
GRADER = CheckServer()
GRADER.start()
atexit.register(GRADER.close)
_WARM_UP = threading.Thread(target=_warm_up_renderers, name="warm-up-renderers", daemon=True)
_WARM_UP.start()
# A daemon thread stopped at exit in the middle of loading matplotlib's compiled extensions
# aborts the interpreter ("terminate called without an active exception"): exit waits first.
atexit.register(_WARM_UP.join, WARM_UP_EXIT_WAIT)
