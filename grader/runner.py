"""Grading one submission folder: each exercise in-process or in a sandboxed server process."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader import fixtures
from grader.checks import STALL_AFTER, Target, grade
from grader.contract import EX3, EXERCISES, Exercise
from grader.feed import FeedServer
from grader.loader import SubmissionError, load_exercise
from grader.probe import Probe
from grader.results import ExerciseResult, SubmissionResult, failed_exercise, ordered
from grader.sandbox import Limits, Sandbox, warm_up

DEFAULT_TIMEOUT = 10.0


def read_source(folder: Path, ex: Exercise) -> str:
    """The exercise's source text as it was before anything ran, or '' when unreadable."""
    try:
        return (folder / ex.filename).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def feed_for(ex: Exercise, workdir: Path) -> FeedServer | None:
    """A token feed bound in ``workdir`` for exercise 3; None for the others."""
    if ex is not EX3:
        return None
    return FeedServer(workdir / "feed.sock", list(fixtures.TOKENS), STALL_AFTER)


def grade_in_process(
    folder: Path, ex: Exercise, timeout: float = DEFAULT_TIMEOUT
) -> ExerciseResult:
    """Grade one exercise by importing it here and talking to it through TestClient.

    For trusted code (reference solutions, tests of the checks): nothing is isolated.
    """
    from fastapi.testclient import TestClient

    source = read_source(folder, ex)
    try:
        module = load_exercise(folder, ex)
    except SubmissionError as exc:
        return failed_exercise(ex, "imports", exc.message, exc.details)
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        feed = feed_for(ex, Path(tmp))
        with feed or contextlib.nullcontext():
            fixtures.install(module, ex, str(feed.address) if feed else None)
            app = Probe(module.app, ex.filename)
            with TestClient(app, raise_server_exceptions=False) as client:
                target = Target(
                    client,
                    timeout,
                    disconnect_grace=0.0,
                    recorded_errors=lambda: app.errors,
                    same_process=True,
                )
                return grade(ex, target, source=source, feed=feed)


def grade_folder_in_process(folder: Path, timeout: float = DEFAULT_TIMEOUT) -> SubmissionResult:
    """Grade every exercise of a folder in-process (trusted code only)."""
    started = time.monotonic()
    result = ordered(
        str(folder), {ex.id: grade_in_process(folder, ex, timeout) for ex in EXERCISES}
    )
    result.duration = time.monotonic() - started
    return result


@contextlib.contextmanager
def sandboxed(folder: Path, ex: Exercise, limits: Limits) -> Iterator[Callable[[], ExerciseResult]]:
    """Start ``ex``'s jailed server now; yield a function that grades it.

    Starting forks, so it must happen while this process runs no other threads;
    grading starts threads, so several started sandboxes may be graded at once.
    """
    source = read_source(folder, ex)
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        feed = feed_for(ex, workdir)
        if feed:
            stack.callback(feed.close)
        box = stack.enter_context(Sandbox(folder, ex, limits, workdir, feed and str(feed.address)))

        def run() -> ExerciseResult:
            try:
                box.wait_ready()
            except SubmissionError as exc:
                return failed_exercise(ex, "imports", exc.message, exc.details)
            with feed or contextlib.nullcontext(), box.client() as client:
                target = Target(client, limits.timeout, box.explain, loop_pid=box.server_pid())
                result = grade(ex, target, source=source, feed=feed)
            result.advice += box.notes
            return result

        yield run


def grade_isolated(folder: Path, ex: Exercise, limits: Limits) -> ExerciseResult:
    """Grade one exercise served by a jailed process; the verdict rests on what this side saw."""
    with sandboxed(folder, ex, limits) as run:
        return run()


def grade_submission(
    folder: Path,
    limits: Limits,
    exercises: tuple[Exercise, ...] = EXERCISES,
    label: str | None = None,
) -> SubmissionResult:
    """Grade the chosen exercises of one submission folder, each in its own sandbox, at once."""
    started = time.monotonic()
    warm_up()
    with contextlib.ExitStack() as stack:
        runs = [stack.enter_context(sandboxed(folder, ex, limits)) for ex in exercises]
        with ThreadPoolExecutor(len(runs), thread_name_prefix="grader") as pool:
            graded = list(pool.map(lambda run: run(), runs))
    result = ordered(label or str(folder), {r.id: r for r in graded}, exercises)
    result.duration = time.monotonic() - started
    return result
