"""Grading one submission folder: in-process (trusted code), or served by a jailed process.

Both ways grade with the same checks (``grader.grading``); they differ only in
the client handed to them: Starlette's TestClient, whose transport calls the
app in this process, or an httpx2 client on the sandboxed server's socket.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

from grader import files, fixtures
from grader.errors import ServerLost, ServerSplit, SubmissionError, UnsafeFile
from grader.exercises import EXERCISES, Exercise
from grader.feed import FeedServer
from grader.grading import Target, grade
from grader.loader import load_exercise
from grader.memory import sandbox_gauge
from grader.results import ExerciseResult, SubmissionResult, failed_exercise, ordered
from grader.sandbox import Limits, Sandbox, scratch_folder
from grader.settings import STALL_AFTER, TIMEOUT


def read_source(folder: Path, ex: Exercise) -> str:
    """The exercise's source text as it was before anything ran; '' when the file is missing.

    Raise UnsafeFile for a file the grader refuses to read (a link, a device, too large).
    """
    try:
        return files.read_file(folder, ex.filename).decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _read_sources(
    folder: Path, exercises: tuple[Exercise, ...], graded: dict[str, ExerciseResult]
) -> dict[str, str]:
    """Each exercise's source; an exercise whose file is refused fails now, the file named."""
    sources = {}
    for ex in exercises:
        try:
            sources[ex.id] = read_source(folder, ex)
        except UnsafeFile as exc:
            graded[ex.id] = failed_exercise(ex, "imports", exc.message)
    return sources


def feed_for(exercises: tuple[Exercise, ...]) -> FeedServer | None:
    """The grader's feed when an exercise among ``exercises`` is served with one; else None."""
    return FeedServer(STALL_AFTER) if any(ex.uses_feed for ex in exercises) else None


def grade_in_process(
    folder: Path, ex: Exercise, timeout: float = TIMEOUT.default, seed: int | None = None
) -> ExerciseResult:
    """Grade one exercise by importing it here and talking to it through TestClient.

    For trusted code (reference solutions, tests of the checks): nothing is isolated.
    ``seed`` draws the inputs (default: a fresh one).
    """
    from grader.in_process import InProcessClient  # the test client's httpx, only when asked

    try:
        source = read_source(folder, ex)
        module = load_exercise(folder, ex)
    except SubmissionError as exc:
        return failed_exercise(ex, "imports", exc.message, exc.details)
    feed = feed_for((ex,))
    with feed or contextlib.nullcontext():
        app = ex.serve(module, feed.child_fd if feed else None)
        with InProcessClient(app, raise_server_exceptions=False) as client:
            target = Target(client, timeout, seed=fixtures.Seed(seed), source=source, feed=feed)
            return grade(ex, target)


def grade_folder_in_process(folder: Path, timeout: float = TIMEOUT.default) -> SubmissionResult:
    """Grade every exercise of a folder in-process (trusted code only)."""
    started = time.monotonic()
    result = ordered(
        str(folder), {ex.id: grade_in_process(folder, ex, timeout) for ex in EXERCISES}
    )
    result.duration = time.monotonic() - started
    return result


def grading_order(exercises: tuple[Exercise, ...]) -> tuple[Exercise, ...]:
    """Those served with the feed first: their timing checks then run before anything another
    app left running, and their server is forked before the inputs' seed is drawn."""
    return tuple(sorted(exercises, key=lambda ex: not ex.uses_feed))


def grade_submission(
    folder: Path,
    limits: Limits,
    exercises: tuple[Exercise, ...] = EXERCISES,
    label: str | None = None,
) -> SubmissionResult:
    """Grade the chosen exercises of one submission folder, served by one jailed server.

    When a module kills or hangs that server, the exercises not yet graded get a
    fresh one, so a broken module costs only its own exercise.
    """
    started = time.monotonic()
    graded: dict[str, ExerciseResult] = {}
    sources = _read_sources(folder, exercises, graded)
    remaining = grading_order(tuple(ex for ex in exercises if ex.id in sources))
    seed = fixtures.Seed(limits.seed)  # drawn once a server runs: none inherits it
    plans = [remaining] if remaining else []  # the exercises each server to come serves
    while plans:
        plans[:1] = _grade_in_sandbox(folder, plans[0], limits, sources, graded, seed)
    result = ordered(label or str(folder), graded, exercises)
    result.duration = time.monotonic() - started
    return result


def _grade_in_sandbox(
    folder: Path,
    exercises: tuple[Exercise, ...],
    limits: Limits,
    sources: dict[str, str],
    graded: dict[str, ExerciseResult],
    seed: fixtures.Seed,
) -> list[tuple[Exercise, ...]]:
    """Grade ``exercises`` in one sandbox, in order; return the servers still needed.

    Nothing is left when all were graded. When the server is lost, the exercises
    not graded yet get a fresh one; when its start failed in a way an earlier
    module may have caused, each suspect first gets a server of its own.
    """
    with (
        tempfile.TemporaryDirectory(prefix="grader-", dir=scratch_folder()) as tmp,
        contextlib.ExitStack() as stack,
    ):
        feed = feed_for(exercises)
        if feed:
            stack.callback(feed.close)
        # Fork before the feed starts its thread: the child must not inherit a running thread.
        box = stack.enter_context(
            Sandbox(folder, exercises, limits, Path(tmp), feed.child_fd if feed else None)
        )
        if feed:
            feed.forked()
        stack.enter_context(feed or contextlib.nullcontext())
        box.client(exercises[0])  # made while the server starts: a cold grader imports httpx2 now
        try:
            failures = box.wait_ready()
        except ServerLost as lost:
            graded[lost.ex.id] = failed_exercise(lost.ex, "imports", lost.message, lost.details)
            return _plans((), tuple(ex for ex in exercises if ex is not lost.ex))
        except ServerSplit as split:
            rest = tuple(ex for ex in exercises if ex not in split.exercises)
            return _plans(split.exercises, rest)
        for ex in exercises:
            if error := failures.get(ex.id):
                graded[ex.id] = failed_exercise(ex, "imports", error.message, error.details)
        served = tuple(ex for ex in exercises if ex.id not in failures)
        for index, ex in enumerate(served):
            previous = graded[served[index - 1].id] if index else None
            if previous and not box.usable(ex, after_failure=not previous.passed):
                return [served[index:]]  # the exercise before broke or wore out the server
            graded[ex.id] = _grade_served(box, ex, sources[ex.id], feed, seed)
    return []


def _plans(
    alone: tuple[Exercise, ...], together: tuple[Exercise, ...]
) -> list[tuple[Exercise, ...]]:
    """One server for each exercise of ``alone``, then one for ``together`` (if any).

    A server for an exercise served with the feed goes first all the same: the
    inputs' seed is drawn when the first exercise is graded, and no server forked
    after that may serve such an exercise, whose inputs (exercise 3's tokens and
    prompts) it would find in the memory it inherits.
    """
    plans = [(ex,) for ex in alone] + ([together] if together else [])
    return sorted(plans, key=lambda plan: not any(ex.uses_feed for ex in plan))


def _grade_served(
    box: Sandbox, ex: Exercise, source: str, feed: FeedServer | None, seed: fixtures.Seed
) -> ExerciseResult:
    """Run ``ex``'s checks against its app in the sandbox's server."""
    pid = box.server_pid()
    target = Target(
        box.client(ex),
        box.limits.timeout,
        box.explain,
        seed=seed,
        server_pid=pid,
        source=source,
        feed=feed if ex.uses_feed else None,
        memory=sandbox_gauge(box.group, pid),
    )
    result = grade(ex, target)
    result.advice += box.notes
    return result
