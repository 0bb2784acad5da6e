"""Grading many submissions: in parallel worker processes, each result saved the moment it is known.

The main process stays single-threaded and forks ``jobs`` workers, then hands
them submissions one at a time over pipes. A worker grades a submission (its
code served by a sandbox the worker forks), writes the full result to
``<results dir>/<name>.json`` atomically and asks for the next. A worker that
dies costs only the submission it was grading, which is reported as such, and
is replaced.

A record is named after the submission's folder, whatever spelling of its path
was given, and holds the fingerprint of what it was graded from (the folder's
files, the grader and the options that decide verdicts: see grader.fingerprint).
A re-run into the same results folder reuses a record only while that fingerprint
still matches, so an interrupted batch loses nothing and a changed file is never
left with a stale grade. Records of any other layout are ignored and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import select
import signal
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from grader.exercises import EXERCISES, Exercise
from grader.fingerprint import canonical_folder, setup_fingerprint, submission_fingerprint
from grader.forkserver import ForkServer
from grader.jail import die_with_parent, foreign_modules, name_process
from grader.lifetime import batch_scope
from grader.results import SubmissionResult, failed_exercise, from_record, to_record
from grader.runner import grade_submission
from grader.sandbox import Limits, forked_by, scratch_folder, warm_up

WORKER_FAILED = 70
INDEX_BYTES = 4  # a job index on the pipe to a worker: one write, so never split
RECORD_LAYOUT = 2  # records without this layout (older grader versions) are never reused


@dataclass(frozen=True)
class Job:
    """One submission to grade: the label reports use (the path as given) and its folder.

    ``fingerprint`` is what its saved result must have been graded from to be
    reused; None means never reuse one.
    """

    label: str
    folder: Path
    fingerprint: str | None = None

    def record_name(self) -> str:
        """A file name unique to this submission's folder, however its path is spelled."""
        where = canonical_folder(self.folder)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", where).strip("._")[-60:] or "submission"
        digest = hashlib.sha256(os.fsencode(where)).hexdigest()[:16]
        return f"{slug}-{digest}.json"


Progress = Callable[[Job, SubmissionResult, bool], None]


def load_record(path: Path, fingerprint: str | None = None) -> SubmissionResult | None:
    """A saved result, or None when absent, unreadable, of another layout or, when a
    ``fingerprint`` is given, graded from something else."""
    try:
        envelope = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(envelope, dict) or envelope.get("layout") != RECORD_LAYOUT:
            return None
        if fingerprint is not None and envelope.get("fingerprint") != fingerprint:
            return None
        return from_record(envelope["result"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save_record(path: Path, result: SubmissionResult, fingerprint: str | None) -> None:
    """Write a result and what it was graded from atomically: a reader sees all of it or none."""
    envelope = {"layout": RECORD_LAYOUT, "fingerprint": fingerprint, "result": to_record(result)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".record-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(envelope, ensure_ascii=False))  # dumps: C encoder, dump: Python
    Path(tmp).replace(path)


def crashed(job: Job, exercises: tuple[Exercise, ...], why: str) -> SubmissionResult:
    """A result for a submission the grader itself failed on, so the batch still accounts for it."""
    message = f"The grader could not grade this submission ({why}); please tell your instructor."
    return SubmissionResult(
        job.label, [failed_exercise(ex, "graded", message) for ex in exercises], ungraded=why
    )


@contextmanager
def results_folder(path: Path | None) -> Iterator[Path]:
    """The folder results are saved in: the one given, or a temporary one."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="grader-results-", dir=scratch_folder()) as tmp:
        yield Path(tmp)


def run_batch(
    jobs: list[Job],
    limits: Limits,
    *,
    exercises: tuple[Exercise, ...] = EXERCISES,
    workers: int = 2,
    results_dir: Path | None = None,
    progress: Progress | None = None,
    regrade: bool = False,
) -> list[SubmissionResult]:
    """Grade every job, reusing saved results that still match unless ``regrade``.

    Results come back in the order of ``jobs``.
    """
    if results_dir is not None:
        prints = fingerprints(jobs, setup_fingerprint(limits, exercises))
        jobs = [replace(job, fingerprint=digest) for job, digest in zip(jobs, prints, strict=True)]
    # Nothing of the batch outlives it, not even when this process is killed (grader.lifetime).
    with batch_scope(), results_folder(results_dir) as folder:
        done: dict[int, SubmissionResult] = {}
        todo = []
        for index, job in enumerate(jobs):
            saved = None if regrade else _reusable(folder, job)
            if saved is not None:
                done[index] = saved
                if progress:
                    progress(job, saved, True)
            else:
                todo.append(index)
        if len(todo) == 1:  # one submission: no worker to fork, no result to pass back
            job = jobs[todo[0]]
            done[todo[0]] = _grade_here(job, folder, limits, exercises)
            if progress:
                progress(job, done[todo[0]], False)
        else:
            _grade_in_workers(jobs, todo, folder, limits, exercises, workers, done, progress)
        return [done[i] for i in range(len(jobs))]


def fingerprints(jobs: list[Job], setup: str) -> list[str | None]:
    """Each job's fingerprint (None: none), hashed by a child process.

    Workers, and through them every sandbox, start from a copy of this process's
    memory: it must never have read a submission's files, whose bytes would stay
    there, freed but not cleared.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            found = [submission_fingerprint(job.folder, setup) for job in jobs]
            with os.fdopen(write_end, "wb") as out:
                out.write(json.dumps(found).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    try:
        found = json.loads(data)
    except ValueError:  # the child failed: nothing is reused, everything graded again
        return [None] * len(jobs)
    return found if isinstance(found, list) and len(found) == len(jobs) else [None] * len(jobs)


def _reusable(folder: Path, job: Job) -> SubmissionResult | None:
    """The job's saved result when it was graded from exactly what would be graded now."""
    if job.fingerprint is None:
        return None
    saved = load_record(folder / job.record_name(), job.fingerprint)
    if saved is not None:
        saved.submission = job.label  # the same folder may have been given another way
    return saved


def _grade_and_save(
    job: Job, folder: Path, limits: Limits, exercises: tuple[Exercise, ...]
) -> SubmissionResult:
    """Grade one submission and save its record."""
    result = grade_submission(job.folder, limits, exercises, label=job.label)
    save_record(folder / job.record_name(), result, job.fingerprint)
    return result


def _grade_here(
    job: Job, folder: Path, limits: Limits, exercises: tuple[Exercise, ...]
) -> SubmissionResult:
    """Grade one submission in this process; a grader failure costs only this submission."""
    try:
        return _grade_and_save(job, folder, limits, exercises)
    except Exception as exc:
        traceback.print_exc()
        return crashed(job, exercises, f"{type(exc).__name__} in the grader")


@dataclass
class Worker:
    """A forked worker process: the pipe that sends it jobs, the one it answers on, its job."""

    pid: int
    jobs: int
    answers: int
    current: int | None = None


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
    # Imported and found once here, every worker (a fork) and its sandboxes inherit them. A
    # single submission skips this: its sandbox imports FastAPI while this process gets ready.
    warm_up()
    foreign_modules()
    pending = list(reversed(todo))
    pool: dict[int, Worker] = {}
    try:
        while pending or pool:
            while pending and len(pool) < max(1, workers):
                others = [fd for w in pool.values() for fd in (w.jobs, w.answers)]
                worker = _fork_worker(jobs, folder, limits, exercises, others)
                pool[worker.answers] = worker
                _assign(worker, pending)
            ready, _, _ = select.select(list(pool), [], [])
            for fd in ready:
                worker = pool[fd]
                index, finished = worker.current, _answer(worker)
                if index is not None:
                    done[index] = _outcome(jobs[index], folder, exercises, finished)
                    if progress:
                        progress(jobs[index], done[index], False)
                if finished is None or not _assign(worker, pending):
                    _retire(pool.pop(fd))
    finally:
        for worker in pool.values():
            _stop_worker(worker)


def _assign(worker: Worker, pending: list[int]) -> bool:
    """Send the worker its next job; False when there is none left or the worker is gone."""
    worker.current = pending.pop() if pending else None
    if worker.current is None:
        return False
    try:
        os.write(worker.jobs, worker.current.to_bytes(INDEX_BYTES, "big"))
    except BrokenPipeError:  # it died between jobs: the job goes to the next worker
        pending.append(worker.current)
        worker.current = None
        return False
    return True


def _answer(worker: Worker) -> int | None:
    """The worker's exit status for its job (0: record saved), or None when the worker died."""
    data = os.read(worker.answers, 1)
    return data[0] if data else None


def _outcome(
    job: Job, folder: Path, exercises: tuple[Exercise, ...], status: int | None
) -> SubmissionResult:
    """The saved record of a finished job, or a result saying why there is none."""
    result = load_record(folder / job.record_name()) if status == 0 else None
    if result is not None:
        return result
    why = "the worker died" if status is None else f"worker exit status {status}"
    return crashed(job, exercises, why)


def _fork_worker(
    jobs: list[Job],
    folder: Path,
    limits: Limits,
    exercises: tuple[Exercise, ...],
    others: list[int],
) -> Worker:
    """Fork a worker that grades the jobs it is sent, each into its record file.

    The worker closes ``others``, the pipes to the workers forked before it, so
    that each pipe's end of file still means what it says. SIGINT is blocked
    across the fork so that Ctrl-C always lands in the main process, which then
    stops every worker; workers themselves ignore it.
    """
    jobs_r, jobs_w = os.pipe()
    answers_r, answers_w = os.pipe()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        os.close(jobs_r)
        os.close(answers_w)
        return Worker(pid, jobs_w, answers_r)
    try:  # pragma: no cover - below runs in the worker
        die_with_parent()
        for fd in (jobs_w, answers_r, *others):
            os.close(fd)
        name_process("grader-worker")
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        _work(jobs, folder, limits, exercises, jobs_r, answers_w)
    finally:
        os._exit(0)


def _work(
    jobs: list[Job],
    folder: Path,
    limits: Limits,
    exercises: tuple[Exercise, ...],
    inbox: int,
    outbox: int,
) -> None:  # pragma: no cover - runs in the worker
    """Grade each job index read from ``inbox``, answering 0 (saved) or WORKER_FAILED.

    The worker's sandboxes are forked by a fork server made before the first job is
    read (grader.forkserver): a sandbox forked from the worker itself would start
    with a copy of its memory, where the files of the classmates it graded before
    still lie, freed but not cleared.
    """
    with ForkServer(exercises, close_in_server=(inbox, outbox)) as forker, forked_by(forker):
        while data := os.read(inbox, INDEX_BYTES):
            job = jobs[int.from_bytes(data, "big")]
            status = WORKER_FAILED
            try:
                _grade_and_save(job, folder, limits, exercises)
                status = 0
            except Exception:
                traceback.print_exc()
            os.write(outbox, bytes([status]))


def _retire(worker: Worker) -> None:
    """Tell an idle worker there is no more work, and reap it."""
    for fd in (worker.jobs, worker.answers):
        os.close(fd)
    os.waitpid(worker.pid, 0)


def _stop_worker(worker: Worker) -> None:
    """Kill an unfinished worker (its sandbox dies with it) and reap it."""
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(worker.pid, signal.SIGKILL)
        os.waitpid(worker.pid, 0)
    for fd in (worker.jobs, worker.answers):
        os.close(fd)
