"""Helpers the grader's test modules share, so that no test module imports another.

Running the command line as instructors run it, writing submissions from the
reference solutions, serving one in a sandbox, finding the processes a grading
started, a loopback listener that counts connections, and a cgroup subtree of
its own for a grader run as an ordinary user.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil
import pytest

from grader import cgroups
from grader.exercises import EXERCISES, Exercise
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.results import ExerciseResult
from grader.runner import grade_submission
from grader.sandbox import Limits, Sandbox

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
GRADER = (sys.executable, "-m", "grader")
RUN_LIMIT = 180  # seconds any one grader run may take before the test gives up on it
FAST = Limits(timeout=5.0)
SETTLE = 5.0  # seconds processes get to disappear after their sandbox is gone
POLL = 0.05
PR_SET_CHILD_SUBREAPER = 36
CORPUS = ROOT / "tests" / "corpus" / "hostile"
SYSV_KEY = 0x55E5E001  # the key of the System V segment one hostile case leaves behind
SYSV_TABLES = tuple(Path("/proc/sysvipc") / table for table in ("shm", "msg", "sem"))


# --- the command line --------------------------------------------------------------------


def without_root() -> tuple[str, ...]:
    """A command prefix that runs the grader as an ordinary user (1000), or skips saying why.

    In a user namespace of its own, mapped onto ours: the files it reads are still ours, so
    the interpreter is found wherever it lives, but the grader has no root powers and takes
    the way it takes on an instructor's laptop.
    """
    command = ("unshare", "--user", "--map-user=1000", "--map-group=1000")
    if shutil.which(command[0]) is None:
        pytest.skip("util-linux's unshare is not installed: no ordinary user to grade as")
    probe = subprocess.run([*command, "id", "-u"], capture_output=True, text=True, check=False)
    if probe.stdout.strip() != "1000":
        pytest.skip(f"user namespaces are unavailable here: {probe.stderr.strip()}")
    return command


def grader(
    *args: str,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    command: tuple[str, ...] = GRADER,
    timeout: float = RUN_LIMIT,
) -> subprocess.CompletedProcess[str]:
    """Run the grader with ``args``; its exit status and everything it wrote."""
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON report a run printed, which must be all of its stdout."""
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"stdout is not one JSON document ({exc}); stderr: {done.stderr[-2000:]}")


def last_document(stdout: str) -> dict[str, Any]:
    """The last JSON object of stdout (the grader's report, even if something printed before)."""
    decoder = json.JSONDecoder()
    starts = [
        i for i, char in enumerate(stdout) if char == "{" and (i == 0 or stdout[i - 1] == "\n")
    ]
    for start in reversed(starts):
        try:
            document, end = decoder.raw_decode(stdout, start)
        except json.JSONDecodeError:
            continue
        if not stdout[end:].strip() and "submissions" in document:
            return document
    pytest.fail(f"no JSON report on stdout: {stdout[-2000:]!r}")


def failure_text(exercise: dict[str, Any]) -> str:
    """The messages of an exercise's failed checks, joined."""
    return "\n".join(c["message"] for c in exercise["checks"] if not c["passed"])


def saved(results: Path) -> dict[str, int]:
    """The record files in a results folder and their modification times."""
    return {path.name: path.stat().st_mtime_ns for path in results.glob("*.json")}


# --- submissions -------------------------------------------------------------------------


def reference(ex: Exercise) -> str:
    """The reference solution's source for ``ex``."""
    return (SOLUTIONS / ex.filename).read_text(encoding="utf-8")


def make_submission(folder: Path, sources: dict[Exercise, str] | None = None) -> Path:
    """A submission folder: the reference solutions, except the modules ``sources`` replaces."""
    folder.mkdir(parents=True)
    for ex in EXERCISES:
        text = (sources or {}).get(ex) or reference(ex)
        (folder / ex.filename).write_text(text, encoding="utf-8")
    return folder


def with_code(extra: str, ex: Exercise = EX1) -> str:
    """The reference solution of ``ex`` followed by ``extra`` at module level."""
    return reference(ex) + "\n\n" + textwrap.dedent(extra)


def line_of(source: str, text: str) -> int:
    """The 1-based number of the first line of ``source`` holding ``text``."""
    return next(n for n, line in enumerate(source.splitlines(), start=1) if text in line)


# --- sandboxes ---------------------------------------------------------------------------


@contextmanager
def real_std_streams() -> Iterator[None]:
    """Fork with the interpreter's own sys.stdout/stderr, as the command line does.

    pytest swaps in capture objects whose file descriptors the jail closes; a
    submission's print() would then fail for reasons of the test, not its own.
    """
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@contextmanager
def sandbox(
    tmp: Path, source: str | None, limits: Limits = FAST, ex: Exercise = EX1
) -> Iterator[Sandbox]:
    """A started sandbox serving ``source`` as ``ex``'s module (None: the module is missing)."""
    folder = tmp / "submission"
    folder.mkdir(parents=True)
    if source is not None:
        (folder / ex.filename).write_text(source, encoding="utf-8")
    with serving(folder, (ex,), limits) as box:
        yield box


@contextmanager
def serving(
    folder: Path, exercises: tuple[Exercise, ...], limits: Limits = FAST
) -> Iterator[Sandbox]:
    """A started sandbox serving ``exercises`` of a submission folder."""
    # The jail's unprivileged user must reach its folder: pytest's tmp_path is private to root.
    with (
        tempfile.TemporaryDirectory(prefix="grader-test-") as workdir,
        real_std_streams(),
        Sandbox(folder, exercises, limits, Path(workdir), None) as box,
    ):
        yield box


# --- processes ---------------------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout: float = SETTLE) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; say whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True


def processes_mentioning(text: str) -> list[psutil.Process]:
    """Living processes whose command line, working folder or environment mention ``text``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            fields = [*proc.cmdline(), proc.cwd(), *proc.environ().values()]
        except psutil.Error:
            continue
        if any(text in field for field in fields):
            found.append(proc)
    return found


def describe(procs: list[psutil.Process]) -> list[str]:
    """Pid and command line of each process, for assertion messages."""
    described = []
    for proc in procs:
        try:
            described.append(f"{proc.pid}: {' '.join(proc.cmdline())}")
        except psutil.Error:
            described.append(f"{proc.pid}: (gone)")
    return described


def kill_all(procs: list[psutil.Process]) -> None:
    """SIGKILL processes a failing test found, so one failure does not leak into the next."""
    for proc in procs:
        with suppress(psutil.Error):
            proc.kill()


def settle(marker: str) -> list[psutil.Process]:
    """The processes still mentioning ``marker`` once they had a bounded time to end."""
    wait_until(lambda: not processes_mentioning(marker))
    return processes_mentioning(marker)


@contextmanager
def adopting_orphans() -> Iterator[None]:
    """Become the subreaper of our descendants: a process that escapes its parent comes to us."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
    finally:
        prctl(PR_SET_CHILD_SUBREAPER, 0)


def living_children(ignore: set[int]) -> list[psutil.Process]:
    """Our descendants still running, other than ``ignore``; ended ones are reaped."""
    living = []
    for child in psutil.Process().children(recursive=True):
        if child.pid in ignore:
            continue
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, os.WNOHANG)
            else:
                living.append(child)
        except (psutil.Error, ChildProcessError):
            continue
    return living


def ipc_objects() -> set[str]:
    """Every System V IPC object of the machine, as "table key id"."""
    found = set()
    for table in SYSV_TABLES:
        with suppress(OSError):
            for row in table.read_text().splitlines()[1:]:
                key, ident = row.split()[:2]
                found.add(f"{table.name} {int(key):#x} {ident}")
    return found


# --- the network -------------------------------------------------------------------------


class Listener:
    """A TCP listener on loopback that accepts and counts connections; a context manager."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(POLL)
        self.port: int = self._socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="test-listener", daemon=True)

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _accept(self) -> None:
        """Count every connection until stopped."""
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()


# --- cgroups -----------------------------------------------------------------------------


@contextmanager
def delegated(name: str) -> Iterator[tuple[str, ...]]:
    """A command prefix that starts the grader in a pids cgroup of its own (as root).

    The machine's own pids cgroup may be the hierarchy's root, which no one
    but root may write: a process moved into a folder of its own, owned by
    the user it runs as, may make cgroups there as a delegated user would.
    Yields () when this process is not root or there is no v1 pids hierarchy.
    """
    folder = Path("/sys/fs/cgroup/pids") / name
    if os.getuid() != 0 or not folder.parent.is_dir():
        yield ()
        return
    folder.mkdir(exist_ok=True)
    try:
        join = f'echo $$ > {folder}/cgroup.procs && exec "$@"'
        yield ("sh", "-c", join, "sh")
    finally:
        cgroups.sweep_stale(folder)
        cgroups.Group(False, {"pids": folder}).remove()


# --- a challenge exercise's corpus -------------------------------------------------------
# Every folder tests/corpus/{wrong,right}/exN_* holds one module and an expected.json:
# a wrong case names the checks that must fail, a right case must pass every check.


def corpus_cases(ex: Exercise, kind: str) -> list[Path]:
    """The corpus folders of one exercise of one kind ("wrong" or "right")."""
    return sorted((ROOT / "tests" / "corpus" / kind).glob(f"{ex.id}_*"))


def case_spec(folder: Path) -> dict[str, Any]:
    """A case's expected.json."""
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def graded_alone(folder: Path, ex: Exercise, limits: Limits) -> ExerciseResult:
    """One exercise of a submission folder, graded in a sandbox of its own."""
    return grade_submission(folder, limits, exercises=(ex,)).exercise(ex.id)


def failed_checks(result: ExerciseResult) -> dict[str, str]:
    """The failed checks of a result: name -> message."""
    return {check.name: check.message for check in result.failures()}


def passes_with_fresh_inputs(
    folder: Path, ex: Exercise, limits: Limits, runs: int, checks: list[str]
) -> list[ExerciseResult]:
    """Grade ``ex`` of a folder ``runs`` times in the sandbox: each passes every one of
    ``checks``, and each grading drew inputs of its own (its seed is in the details)."""
    graded = [graded_alone(folder, ex, limits) for _ in range(runs)]
    for run, result in enumerate(graded):
        assert result.passed, (run, result.failures())
        assert [check.name for check in result.checks] == checks
    seeds = {result.checks[0].details.rsplit("--seed ", 1)[-1] for result in graded}
    assert len(seeds) == runs  # every grading drew its own inputs
    return graded
