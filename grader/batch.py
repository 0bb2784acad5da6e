"""Grading many submissions: in parallel worker processes, each result saved the moment it is known.

The main process stays single-threaded and forks one worker per submission
(up to ``jobs`` at a time). A worker grades its submission, each exercise in
its own sandbox, writes the full result to ``<results dir>/<name>.json``
atomically and exits. A re-run into the same results folder loads what is
already there instead of grading it again, so an interrupted batch loses
nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.contract import EXERCISES, Exercise
from grader.results import SubmissionResult, failed_exercise, from_record, to_record
from grader.runner import grade_submission
from grader.sandbox import Limits, warm_up

WORKER_FAILED = 70


@dataclass(frozen=True)
class Job:
    """One submission to grade: the label reports use (the path as given) and its folder."""

    label: str
    folder: Path

    def record_name(self) -> str:
        """A file name unique to this submission's label."""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.label).strip("._")[-60:] or "submission"
        digest = hashlib.sha256(self.label.encode()).hexdigest()[:8]
        return f"{slug}-{digest}.json"


Progress = Callable[[Job, SubmissionResult, bool], None]


def load_record(path: Path) -> SubmissionResult | None:
    """A result saved by an earlier run, or None when absent or unreadable."""
    try:
        return from_record(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_record(path: Path, result: SubmissionResult) -> None:
    """Write a result atomically: a reader sees the whole file or none."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".record-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(to_record(result), out, ensure_ascii=False)
    Path(tmp).replace(path)


def crashed(job: Job, exercises: tuple[Exercise, ...], why: str) -> SubmissionResult:
    """A result for a submission the grader itself failed on, so the batch still accounts for it."""
    message = f"The grader could not grade this submission ({why}); please tell your instructor."
    return SubmissionResult(job.label, [failed_exercise(ex, "graded", message) for ex in exercises])


@contextmanager
def results_folder(path: Path | None) -> Iterator[Path]:
    """The folder results are saved in: the one given, or a temporary one."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="grader-results-") as tmp:
        yield Path(tmp)


def run_batch(
    jobs: list[Job],
    limits: Limits,
    *,
    exercises: tuple[Exercise, ...] = EXERCISES,
    workers: int = 2,
    results_dir: Path | None = None,
    progress: Progress | None = None,
) -> list[SubmissionResult]:
    """Grade every job, reusing saved results; return results in the order of ``jobs``."""
    warm_up()
    with results_folder(results_dir) as folder:
        done: dict[int, SubmissionResult] = {}
        todo = []
        for index, job in enumerate(jobs):
            saved = load_record(folder / job.record_name()) if results_dir else None
            if saved is not None:
                done[index] = saved
                if progress:
                    progress(job, saved, True)
            else:
                todo.append(index)
        if len(todo) == 1:  # one submission: no worker to fork, no result to pass back
            job = jobs[todo[0]]
            done[todo[0]] = _grade_and_save(job, folder, limits, exercises)
            if progress:
                progress(job, done[todo[0]], False)
        else:
            _grade_in_workers(jobs, todo, folder, limits, exercises, workers, done, progress)
        return [done[i] for i in range(len(jobs))]


def _grade_and_save(
    job: Job, folder: Path, limits: Limits, exercises: tuple[Exercise, ...]
) -> SubmissionResult:
    """Grade one submission and save its record."""
    result = grade_submission(job.folder, limits, exercises, label=job.label)
    save_record(folder / job.record_name(), result)
    return result


def _grade_in_workers(
    jobs: list[Job],
    todo: list[int],
    folder: Path,
    limits: Limits,
    exercises: tuple[Exercise, ...],
    workers: int,
    done: dict[int, SubmissionResult],
    progress: Progress | None,
) -> None:
    """Keep up to ``workers`` forked workers busy until every job in ``todo`` is done."""
    running: dict[int, int] = {}
    pending = list(reversed(todo))
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                index = pending.pop()
                running[_fork_worker(jobs[index], folder, limits, exercises)] = index
            pid, status = os.wait()
            index = running.pop(pid, None)
            if index is None:
                continue
            job = jobs[index]
            code = os.waitstatus_to_exitcode(status)
            result = load_record(folder / job.record_name()) if code == 0 else None
            done[index] = result or crashed(job, exercises, f"worker exit status {code}")
            if progress:
                progress(job, done[index], False)
    finally:
        for pid in running:
            _stop_worker(pid)


def _fork_worker(job: Job, folder: Path, limits: Limits, exercises: tuple[Exercise, ...]) -> int:
    """Fork a worker that grades one submission into its record file.

    SIGINT is blocked across the fork so that Ctrl-C always lands in the main
    process, which then stops every worker; workers themselves ignore it.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        return pid
    code = WORKER_FAILED  # pragma: no cover - below runs in the worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        _grade_and_save(job, folder, limits, exercises)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _stop_worker(pid: int) -> None:
    """Kill an unfinished worker (its sandboxes die with it) and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
