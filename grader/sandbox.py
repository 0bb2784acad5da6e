"""Serving the exercises of an untrusted submission from a jailed process.

The grader forks (it has imported FastAPI once, so a child costs milliseconds);
``grader.jail`` is what runs on the other side. The grader is the HTTP client of
the jailed server, over a Unix socket, and judges only the bytes it receives.
One server serves all of a submission's exercise apps; when a module kills or
hangs it, the runner starts another for the exercises still to grade.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import gc
import json
import os
import select
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import cgroups, files, jail, output_log, settings
from grader.errors import ServerLost, ServerSplit, SubmissionError
from grader.exercises.base import Exercise
from grader.forkserver import Forker, HereForker
from grader.probe import EXERCISE_HEADER, PING_PATH
from grader.probe_reply import fetch_json
from grader.status import FAILED, IMPORTING, READY, STARTING, Startup, StatusReader

SERVER_SOCKET = "http.sock"
LOG_FILE = "output.log"
LOG_TAIL = 4000
MAX_STATUS = 64 * 1024  # a longer status line is not the jail's: it was forged, and is dropped
MiB = 1 << 20
EXIT_POLL = 0.01
SERVER_DEPTH = 2  # the server is init's child; without root, init is a relay's child
MAX_PING_REPLY = 4096
FD_HEADROOM = 64  # free descriptors a server needs to serve the next exercise (a few connections)
MEMORY_WORN = 0.8  # share of the memory limit a server may hold and still serve the next one
# What an import failing for want of a resource the whole server shares says (an earlier
# module may have used it up): such a module is tried again in a server of its own.
EXHAUSTION_SIGNS = (
    "Too many open files",
    "MemoryError",
    "Cannot allocate memory",
    "No space left on device",
    "can't start new thread",
    "Resource temporarily unavailable",
)
SHARED_MEMORY = Path("/dev/shm")
SHARED_MEMORY_NEEDED = 1 << 30
LISTEN_BACKLOG = 64
# The folder a batch keeps its sandboxes' folders in, while one runs (grader.batch).
_SCRATCH_ROOTS: list[Path] = []
# Who forks sandboxes, when not this process: a batch worker's fork server (grader.forkserver).
_FORKERS: list[Forker] = []


@dataclass(frozen=True)
class Limits:
    """What a submission's server may use (``timeout`` is per exercise)."""

    timeout: float = settings.TIMEOUT.default
    memory: int = int(settings.MEMORY_MIB.default) * MiB
    cpu_seconds: int = int(settings.CPU_SECONDS.default)
    output: int = int(settings.OUTPUT_KIB.default) * 1024
    isolate_network: bool = True
    seed: int | None = None  # the inputs' seed (--seed); None draws a fresh one per submission
    scratch: int = int(settings.SCRATCH_MIB.default) * MiB  # the home and TMPDIR: a tmpfs


def _exhaustion(error: str) -> bool:
    """True when an import failed for want of something the whole server shares."""
    return any(sign in error for sign in EXHAUSTION_SIGNS)


def _start_slack(limits: Limits) -> float:
    """How long the modules before one may take, and that one be blamed alone for a slow start."""
    return min(settings.START_SLACK, limits.timeout / 4)


class Sandbox:
    """One jailed server for a submission's exercise modules; a context manager that cleans up."""

    def __init__(
        self,
        folder: Path,
        exercises: tuple[Exercise, ...],
        limits: Limits,
        workdir: Path,
        feed_fd: int | None,
    ) -> None:
        self.folder = folder
        self.exercises = exercises
        self.limits = limits
        self.workdir = workdir
        self.feed_fd = feed_fd  # inherited by the sandbox: its only way to the token feed
        self.socket_path = workdir / SERVER_SOCKET  # the grader's: outside the server's reach
        self.log_path = workdir / LOG_FILE
        self.pid = 0
        self.notes: list[str] = []
        self._info_fd = -1
        self._folder_fd = -1  # workdir, so that the socket's address is short wherever it lies
        self._status_fd = -1
        self._exit_status: int | None = None
        self._client: Any = None
        self.group: cgroups.Group | None = None
        self.peak_memory = 0  # bytes, from the sandbox's cgroup once it stopped
        self._forker: Forker = HereForker()

    def __enter__(self) -> Sandbox:
        self.group = self._new_group()
        plan_fds = self._prepare()
        plan = self._plan(*plan_fds)
        self._forker = _FORKERS[-1] if _FORKERS else HereForker()
        try:
            ours = (self._info_fd, self._status_fd, self._folder_fd)
            self.pid = self._forker.start(plan, ours)
        finally:
            for fd in plan_fds:  # the listening socket too: only the server holds it from now on
                os.close(fd)
        return self

    def _new_group(self) -> cgroups.Group | None:
        """The sandbox's cgroup with its limits, or None (with a note saying why)."""
        batch = cgroups.process_batch()
        wording = {"memory": "memory limits", "pids": "process limits"}
        both = "memory and process limits"
        if isinstance(batch, cgroups.Unavailable):
            self._missing(both, str(batch))
            return None
        for controller, why in batch.missing.items():
            self._missing(wording[controller], why)
        try:
            return batch.new_group(self.limits.memory, jail.MAX_PROCESSES)
        except OSError as exc:
            self._missing(both, f"{exc.strerror} in {exc.filename}")
            return None

    def _missing(self, limits: str, why: str) -> None:
        """Note, for the report's advice, limits this machine refused the sandbox."""
        self.notes.append(
            f"{limits} per sandbox unavailable ({why}): this submission runs with less isolation"
        )

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _prepare(self) -> tuple[int, int, int]:
        """Lay out the jail's private folder, open its pipes and its server's socket.

        Return what the jail's processes get: the pipes' write ends, the listening socket.
        """
        check_reachable(self.workdir)
        code = self.workdir / "submission"
        code.mkdir()
        modules = files.read_modules(self.folder)  # never following a link (grader.files)
        files.write_modules(modules, code)
        exercise_files = files.exercise_files()
        self.notes += [why for name, why in modules.refused.items() if name not in exercise_files]
        code.chmod(0o755)
        (self.workdir / "home").mkdir(mode=0o700)
        self.workdir.chmod(0o711)  # the jail's user may pass through, not list
        self._info_fd, info_w = os.pipe()
        self._status_fd, status_w = os.pipe()
        return info_w, status_w, self._listen()

    @property
    def socket_address(self) -> str:
        """The server socket's path through an open folder: short, whatever TMPDIR is.

        A Unix socket's path may have at most 107 bytes.
        """
        return f"/proc/self/fd/{self._folder_fd}/{SERVER_SOCKET}"

    def _listen(self) -> int:
        """The server's listening socket, which the grader alone names and may connect to."""
        self._folder_fd = os.open(self.workdir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(self.socket_address)
            self.socket_path.chmod(0o600)
            listener.listen(LISTEN_BACKLOG)
            return listener.detach()

    def _plan(self, info_fd: int, status_fd: int, listen_fd: int) -> jail.Plan:
        """What the jail needs to know."""
        return jail.Plan(
            exercises=self.exercises,
            code=self.workdir / "submission",
            home=self.workdir / "home",
            listen_fd=listen_fd,
            log_path=self.log_path,
            feed_fd=self.feed_fd,
            memory=self.limits.memory,
            cpu_seconds=self.limits.cpu_seconds,
            output=self.limits.output,
            isolate_network=self.limits.isolate_network,
            foreign_modules=jail.foreign_modules(),
            info_fd=info_fd,
            status_fd=status_fd,
            scratch=self.limits.scratch,
            cgroup_procs=self.group.procs if self.group else (),
        )

    def wait_ready(self) -> dict[str, SubmissionError]:
        """Wait until the server listens; return why the modules it does not serve failed.

        One deadline, ``limits.timeout`` on the grader's clock from the moment
        the first import begins, covers importing every module and starting
        every app's lifespan: nothing the server says moves it (``grader.status``).
        Raise ServerLost when the server dies or hangs in one module's import or
        lifespan, and that module alone can have caused it; ServerSplit when the
        fault may lie with a module that ran before.
        """
        startup = Startup(self.exercises, time.monotonic(), self.limits.timeout)
        self._read_notes(startup.deadline)
        reader = StatusReader(self._status_fd, self.exercises)
        failures: dict[str, SubmissionError] = {}
        while (message := reader.next(startup.deadline)) is not None:
            if message.kind == READY:
                return failures
            if not startup.advance(message, time.monotonic()) or message.kind != FAILED:
                continue
            assert message.ex is not None
            if _exhaustion(message.error) and message.ex is not self.exercises[0]:
                raise ServerSplit((message.ex,))  # an earlier module may have used it all up
            failures[message.ex.id] = SubmissionError(message.error, message.details)
        raise self._start_failure(startup, reader)

    def _start_failure(self, startup: Startup, reader: StatusReader) -> Exception:
        """What to raise when the server never became ready: who is to blame, if anyone is."""
        work = startup.at_work()
        if work is None:  # between two stages: any module run so far may have done it
            suspects = tuple(ex for ex in self.exercises if ex not in startup.failed)
            if suspects and len(self.exercises) > 1:
                return ServerSplit(suspects)
            # Alone, or every module failed to import: the last is the one left to blame.
            work = (IMPORTING, suspects[-1] if suspects else self.exercises[-1])
        kind, ex = work
        timed_out = time.monotonic() >= startup.deadline
        if not self._alone_at_work(startup, timed_out=timed_out):
            return ServerSplit((ex,))  # in a server of its own, its start is the first
        why = self._too_slow(kind, ex) if timed_out else self._broke_off(kind, ex, reader)
        return ServerLost(ex, why, self.log_tail())

    def _alone_at_work(self, startup: Startup, *, timed_out: bool) -> bool:
        """True when only the module at work can have failed the start.

        So it is when its stage was the first thing the server did or, for a start
        that ran out of time, when the stages before it took next to nothing.
        """
        if startup.first_at_work():
            return True
        return timed_out and startup.time_before() <= _start_slack(self.limits)

    def _broke_off(self, kind: str, ex: Exercise, reader: StatusReader) -> str:
        """Explain a start that ended before its deadline without the server being ready."""
        why = self.death(settings.EXIT_GRACE)
        if why is None and reader.ended:
            why = "the server closed the grader's status channel"
        elif why is None:
            why = "the server wrote more to the grader's status channel than a start does"
        doing = "importing" if kind == IMPORTING else "starting its lifespan"
        return f"{ex.filename}: {why} while {doing}."

    def _too_slow(self, kind: str, ex: Exercise) -> str:
        """Explain a start that did not finish in time."""
        limit = f"{self.limits.timeout:g} s"
        if kind == STARTING:
            return (
                f"{ex.filename}: the app's lifespan startup did not finish within {limit}: "
                "something in it runs forever or waits. Startup code must return."
            )
        return (
            f"{ex.filename} did not finish importing within {limit}: something "
            "at module level runs forever or waits. Move it into a function."
        )

    def _read_notes(self, deadline: float) -> None:
        """Read init's notes on missing isolation, from the one pipe no submitted code holds."""
        data = bytearray()
        while time.monotonic() < deadline and select.select([self._info_fd], [], [], 0.5)[0]:
            chunk = os.read(self._info_fd, MAX_STATUS)
            if not chunk:
                break
            data += chunk
        for line in data.splitlines():
            self.notes.append(str(json.loads(line)["note"]))

    def server_pid(self) -> int | None:
        """The global PID of the server (init's first child), or None when it cannot be found.

        Without root, init is itself the child of a process that relays its status.
        """
        pid = self.pid
        for _ in range(SERVER_DEPTH):
            pid = _first_child(pid)
            if not pid or _process_name(pid) == jail.SERVER_NAME:
                return pid or None
        return None

    def client(self, ex: Exercise) -> Any:
        """The sandbox's httpx2 client (over its Unix socket), talking to ``ex``'s app from now on.

        Exercises are graded one at a time, so one client serves them all; it is
        closed when the sandbox stops.
        """
        if self._client is None:
            from grader.http_client import unix_socket_client

            # Every request's timeout is a deadline nothing the server sends can extend.
            self._client = unix_socket_client(self.socket_address, self.limits.timeout)
        self._client.headers[EXERCISE_HEADER] = ex.id
        return self._client

    def usable(self, ex: Exercise, *, after_failure: bool) -> bool:
        """True while the server lives and, after a failed exercise, its loop answers in time.

        An exercise that passed left a server that answered it to the end; one that
        failed may have killed it or left its event loop blocked.
        """
        if self.death() is not None or self._worn_out():
            return False
        if not after_failure:
            return True
        try:  # read as every answer from the sandbox is: uncompressed, capped, by a deadline
            fetch_json(self.client(ex), PING_PATH, MAX_PING_REPLY, settings.PING_TIMEOUT)
        except Exception:  # refused, reset, timed out: the server is no use to the next exercise
            return False
        return True

    def _worn_out(self) -> bool:
        """True when the server holds nearly all its file descriptors or memory.

        Read from /proc, not asked of the server: an exercise graded in such a
        server would fail for what the one before it did.
        """
        pid = self.server_pid()
        if pid is None:
            return False
        try:
            descriptors = sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
            limits = Path(f"/proc/{pid}/limits").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:  # gone, or not ours to read: death() and the ping tell the rest
            return False
        most = _proc_field(limits, "Max open files", 0)
        resident = _proc_field(status, "VmRSS:", 0) * 1024
        return bool(most and descriptors + FD_HEADROOM > most) or (
            resident > MEMORY_WORN * self.limits.memory
        )

    def death(self, grace: float = 0.0) -> str | None:
        """How the server process ended, if it has within ``grace`` seconds; None while it runs."""
        deadline = time.monotonic() + grace
        while self._exit_status is None and self.pid and not self._reap(block=False):
            if time.monotonic() >= deadline:
                return None
            time.sleep(EXIT_POLL)  # the child reaps the server, then exits; only wording waits
        if self._exit_status is None:
            return None
        out_of_memory = bool(self.group and self.group.oom_kills())
        return _describe_exit(self._exit_status, self.limits, self.log_tail(), out_of_memory)

    def _reap(self, *, block: bool) -> bool:
        """Learn init's exit status from whoever forked it; say whether it has ended."""
        try:
            status = self._forker.wait(self.pid, block=block)
        except ChildProcessError:  # its fork server died, and took the sandbox with it
            status = signal.SIGKILL  # the wait status of a process killed by SIGKILL
        if status is not None:
            self._exit_status = os.waitstatus_to_exitcode(status)
        return status is not None

    def explain(self) -> str | None:
        """Why requests fail, when the server is gone; for feedback."""
        return self.death(grace=settings.EXIT_GRACE)

    def log_tail(self) -> str:
        """The start and the end of what the submission printed, for the instructor."""
        return output_log.read_log(self.log_path, LOG_TAIL)

    def stop(self) -> None:
        """Kill the server and everything it started, reap the child, close the client."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.pid:
            _kill(self.pid)
        if self.pid and self._exit_status is None:
            self._reap(block=True)
        for fd in (self._info_fd, self._status_fd, self._folder_fd):
            if fd >= 0:
                os.close(fd)
        self._info_fd = self._status_fd = self._folder_fd = -1
        if self.group is not None:
            self.peak_memory = self.group.peak_memory()
            self.group.remove()
            self.group = None


@functools.cache
def warm_up() -> None:
    """Import what every server child and the client need once, before forking many of them."""
    import httpx2

    import grader.http_client  # noqa: F401
    from grader.sse import STREAM_ENCODING

    httpx2.HTTPTransport(verify=False).close()  # the first transport of a process costs ~30 ms
    codecs.lookup(STREAM_ENCODING)  # its module is imported on a stream's first event
    jail.preload_server()
    # Keep the garbage collector off everything loaded so far: a forked child then shares
    # those pages instead of copying each one the collector would touch.
    gc.freeze()


def scratch_folder() -> Path:
    """Where sandbox folders go: $TMPDIR when set, else /dev/shm when roomy, else the temp dir.

    /dev/shm keeps the many small short-lived files of a batch in memory; on disk,
    creating and deleting them costs more than a sandbox's own start. While a batch
    runs, its own folder there (``scratch_root``).
    """
    if _SCRATCH_ROOTS:
        return _SCRATCH_ROOTS[-1]
    if "TMPDIR" not in os.environ and _roomy_shared_memory():
        return SHARED_MEMORY
    return Path(tempfile.gettempdir())


@contextlib.contextmanager
def scratch_root(folder: Path) -> Iterator[Path]:
    """Make ``folder`` where sandbox folders go, until the block ends."""
    _SCRATCH_ROOTS.append(folder)
    try:
        yield folder
    finally:
        _SCRATCH_ROOTS.remove(folder)


@contextlib.contextmanager
def forked_by(forker: Forker) -> Iterator[Forker]:
    """Have ``forker`` fork every sandbox started until the block ends."""
    _FORKERS.append(forker)
    try:
        yield forker
    finally:
        _FORKERS.remove(forker)


def _roomy_shared_memory() -> bool:
    """True when /dev/shm is a world-writable sticky folder with room for a batch's files."""
    try:
        mode = SHARED_MEMORY.stat().st_mode
        room = os.statvfs(SHARED_MEMORY)
    except OSError:
        return False
    return mode & 0o1777 == 0o1777 and room.f_bavail * room.f_frsize >= SHARED_MEMORY_NEEDED


def check_reachable(folder: Path) -> None:
    """Fail clearly when the jail's user could not reach ``folder`` through its parents.

    Only a grader running as root hands its sandboxes to other users; otherwise
    they run as the grader's own user, who reaches its own folders.
    """
    if os.getuid() != 0:
        return
    for parent in [folder.resolve(), *folder.resolve().parents][1:]:
        if not parent.stat().st_mode & 0o001:
            raise RuntimeError(
                f"the sandbox folder {folder} cannot be reached by the sandbox's unprivileged "
                f"user: {parent} is not searchable by others. Set TMPDIR to a folder that is "
                "(such as /tmp)."
            )


def _proc_field(text: str, label: str, index: int) -> int:
    """The number at ``index`` after ``label`` on its line of a /proc file; 0 when absent."""
    for line in text.splitlines():
        if line.startswith(label):
            fields = line[len(label) :].split()
            return int(fields[index]) if fields[index:] and fields[index].isdigit() else 0
    return 0


def _first_child(pid: int) -> int:
    """The PID of a process's oldest child; 0 when it has none or is gone."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    return int(children[0]) if children else 0


def _process_name(pid: int) -> str:
    """A process's name as ps shows it; '' when it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _kill(pid: int) -> None:
    """SIGKILL a process and its process group, ignoring ones already gone."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _describe_exit(code: int, limits: Limits, log: str, out_of_memory: bool = False) -> str:
    """Turn an exit code (negative: killed by that signal) into words a student can act on.

    ``out_of_memory``: the kernel killed a process of the sandbox for its memory.
    """
    if out_of_memory or "MemoryError" in log:
        return f"the server ran out of memory (the limit is {limits.memory // MiB} MiB)"
    if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return f"the server used more than {limits.cpu_seconds} s of CPU time and was stopped"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        return f"the server process was killed by {signal.Signals(number).name}"
    return f"the server process exited with status {code} (sys.exit or os._exit?)"
