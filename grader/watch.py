"""Re-grade an exercise each time its file is saved: ``python -m grader exercises --watch``.

For students who work in an editor rather than the notebook. The folder is
graded once at the start; after that only the exercise whose module changed is
graded again, with a header naming the file and the time. Ctrl-C stops it
(exit status 130).

The folder is watched with watchfiles, the library behind uvicorn's ``--reload``:
it uses the system's change notifications (inotify, FSEvents, ReadDirectoryChanges)
and falls back to polling where there are none (set WATCHFILES_FORCE_POLLING=1 on
a network or container mount that never reports changes). It watches the folder,
not the files, so a save by rename-over (how most editors save) is seen as a
change of the exercise's file, and bursts of writes are grouped into one change.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from grader.exercises.base import Exercise
from grader.report.text import Style, exercise_lines
from grader.results import SubmissionResult
from grader.runner import grade_submission
from grader.sandbox import Limits

EXIT_INTERRUPTED = 130
CLEAR_SCREEN = "\x1b[H\x1b[2J"
# Changes closer together than this are one save; a grading pass starts this long after the last.
SETTLE_MS = 200

Grade = Callable[[tuple[Exercise, ...]], SubmissionResult]


def saved_exercises(
    changed_paths: Iterable[str], folder: Path, exercises: tuple[Exercise, ...]
) -> tuple[Exercise, ...]:
    """The exercises, in contract order, whose module in ``folder`` is among the changed paths."""
    names = {Path(p).name for p in changed_paths if Path(p).parent.resolve() == folder.resolve()}
    return tuple(ex for ex in exercises if ex.filename in names)


class Watcher:
    """Prints a graded pass for the exercises it is handed, the way the student asked for."""

    def __init__(self, folder: Path, grade: Grade, out: TextIO, *, color: bool) -> None:
        self.folder = folder
        self.grade = grade
        self.out = out
        self.style = Style(color)
        self.clear = out.isatty()  # each pass replaces the last on a terminal; a log keeps all

    def run(self, exercises: tuple[Exercise, ...], why: str) -> None:
        """Grade ``exercises`` and print a header, each exercise's feedback and a footer."""
        if self.clear:
            self.out.write(CLEAR_SCREEN)
        stamp = time.strftime("%H:%M:%S")
        self.out.write(self.style(f"── {why} · graded at {stamp} ──", "1") + "\n")
        self.out.flush()
        result = self.grade(exercises)
        for exercise_result in result.exercises:
            self.out.write("\n".join(exercise_lines(exercise_result, self.style)) + "\n")
        self.out.write(f"watching {self.folder} for saves (Ctrl-C stops)\n\n")
        self.out.flush()


def watch(
    folder: Path,
    exercises: tuple[Exercise, ...],
    limits: Limits,
    *,
    color: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    """Grade ``exercises`` in ``folder`` now and after every save, until interrupted."""
    import watchfiles  # only a watching student pays for importing it

    wanted = {ex.filename for ex in exercises}
    watcher = Watcher(
        folder, lambda chosen: grade_submission(folder, limits, chosen), out, color=color
    )
    try:
        watcher.run(exercises, f"{folder}: {', '.join(ex.id for ex in exercises)}")
        changes = watchfiles.watch(
            folder,
            watch_filter=lambda _change, path: Path(path).name in wanted,
            recursive=False,
            step=SETTLE_MS,
        )
        for batch in changes:
            saved = saved_exercises((path for _change, path in batch), folder, exercises)
            if saved:
                watcher.run(saved, ", ".join(f"{ex.filename} saved" for ex in saved))
    except KeyboardInterrupt:
        print("stopped watching", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_INTERRUPTED  # the watch only ends by an interruption
