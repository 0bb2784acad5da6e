"""Serving one exercise of an untrusted submission from a jailed process.

The grader forks (it has imported FastAPI once, so a child costs milliseconds).
The child starts a new session, enters fresh network and PID namespaces when the
kernel allows it, and forks the server: PID 1 of its namespace, so when it dies
every process the submission started dies with it. The server runs under
resource limits in a private working directory, with only the submission's
files and the installed packages importable, and serves the app over a Unix
socket. The grader is its HTTP client and judges only the bytes it receives.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import fixtures
from grader.contract import Exercise
from grader.loader import SubmissionError, load_exercise
from grader.probe import Probe

CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG = 1
SERVER_SOCKET = "http.sock"
LOG_FILE = "output.log"
LOG_TAIL = 4000
STATUS_LINE = 64 * 1024
MiB = 1 << 20
EXIT_GRACE = 0.2  # how long feedback waits to learn how a dying server ended
EXIT_POLL = 0.01


@dataclass(frozen=True)
class Limits:
    """What one exercise's server may use."""

    timeout: float = 10.0
    memory: int = 1024 * MiB
    cpu_seconds: int = 30
    output: int = 1 * MiB
    isolate_network: bool = True


class Sandbox:
    """One jailed server for one exercise module; a context manager that always cleans up."""

    def __init__(
        self, folder: Path, ex: Exercise, limits: Limits, workdir: Path, feed_address: str | None
    ) -> None:
        self.folder = folder
        self.ex = ex
        self.limits = limits
        self.workdir = workdir
        self.feed_address = feed_address
        self.socket_path = workdir / SERVER_SOCKET
        self.log_path = workdir / LOG_FILE
        self.pid = 0
        self.server_pid = 0
        self.notes: list[str] = []
        self._status_fd = -1
        self._status_buffer = b""
        self._exit_status: int | None = None

    def __enter__(self) -> Sandbox:
        code = self.workdir / "submission"
        code.mkdir()
        for path in self.folder.glob("*.py"):
            shutil.copy2(path, code / path.name)
        (self.workdir / "home").mkdir()
        read_fd, write_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - runs in the child
            os.close(read_fd)
            _run_child(self, code, write_fd)
        os.close(write_fd)
        self._status_fd = read_fd
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self) -> None:
        """Wait until the server listens; raise SubmissionError if the module fails or hangs."""
        deadline = time.monotonic() + self.limits.timeout
        while True:
            message = self._next_status(deadline)
            if message is None:
                raise SubmissionError(self._import_failure(deadline), self.log_tail())
            if "server" in message:
                self.server_pid = int(message["server"])
            elif "note" in message:
                self.notes.append(str(message["note"]))
            elif "error" in message:
                raise SubmissionError(str(message["error"]), str(message.get("details", "")))
            elif message.get("ready"):
                return

    def _next_status(self, deadline: float) -> dict[str, Any] | None:
        """The next status message from the child, or None at end of pipe or deadline."""
        while b"\n" not in self._status_buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._status_fd], [], [], remaining)[0]:
                return None
            data = os.read(self._status_fd, STATUS_LINE)
            if not data:
                return None
            self._status_buffer += data
        line, _, self._status_buffer = self._status_buffer.partition(b"\n")
        return json.loads(line)

    def _import_failure(self, deadline: float) -> str:
        """Explain why the server never became ready."""
        name = self.ex.filename
        if time.monotonic() >= deadline:
            return (
                f"{name} did not finish importing within {self.limits.timeout:g} s: something "
                "at module level runs forever or waits. Move it into a function."
            )
        return f"{name}: {self.death(EXIT_GRACE) or 'the process ended'} while importing."

    def client(self) -> Any:
        """An httpx2 client talking to the jailed server over its Unix socket."""
        import httpx2

        # verify=False: no TLS on a Unix socket, and loading CA certificates costs ~60 ms.
        transport = httpx2.HTTPTransport(uds=str(self.socket_path), verify=False)
        timeout = httpx2.Timeout(self.limits.timeout)
        return httpx2.Client(transport=transport, base_url="http://submission", timeout=timeout)

    def death(self, grace: float = 0.0) -> str | None:
        """How the server process ended, if it has within ``grace`` seconds; None while it runs."""
        deadline = time.monotonic() + grace
        while self._exit_status is None and self.pid:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._exit_status = os.waitstatus_to_exitcode(status)
            elif time.monotonic() >= deadline:
                return None
            else:
                time.sleep(EXIT_POLL)  # the child reaps the server, then exits; only wording waits
        if self._exit_status is None:
            return None
        return _describe_exit(self._exit_status, self.limits, self.log_tail())

    def explain(self) -> str | None:
        """Why requests fail, when the server is gone; for feedback."""
        died = self.death(grace=EXIT_GRACE)
        return f"nothing: {died}" if died else None

    def log_tail(self) -> str:
        """The end of what the submission printed, for the instructor."""
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-LOG_TAIL:].decode("utf-8", errors="replace")

    def stop(self) -> None:
        """Kill the server and everything it started, and reap the child."""
        for pid in (self.server_pid, self.pid):
            if pid:
                _kill(pid)
        if self.pid and self._exit_status is None:
            _, status = os.waitpid(self.pid, 0)
            self._exit_status = os.waitstatus_to_exitcode(status)
        if self._status_fd >= 0:
            os.close(self._status_fd)
            self._status_fd = -1


def warm_up() -> None:
    """Import what every server child needs once, before forking, so each child starts in ms."""
    import anyio.streams.buffered  # noqa: F401
    import fastapi.responses
    import fastapi.sse  # noqa: F401
    import httpx2  # noqa: F401
    import uvicorn.lifespan.on
    import uvicorn.loops.asyncio
    import uvicorn.protocols.http.h11_impl  # noqa: F401


def _kill(pid: int) -> None:
    """SIGKILL a process and its process group, ignoring ones already gone."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _describe_exit(code: int, limits: Limits, log: str) -> str:
    """Turn an exit code (negative: killed by that signal) into words a student can act on."""
    if "MemoryError" in log:
        return f"the server ran out of memory (the limit is {limits.memory // MiB} MiB)"
    if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return f"the server used more than {limits.cpu_seconds} s of CPU time and was stopped"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        return f"the server process was killed by {signal.Signals(number).name}"
    return f"the server process exited with status {code} (sys.exit or os._exit?)"


# --- everything below runs in the forked child ---------------------------------------------


def _send(fd: int, message: dict[str, object]) -> None:
    """Tell the grader something over the status pipe."""
    os.write(fd, json.dumps(message, default=str).encode() + b"\n")


def _run_child(box: Sandbox, code: Path, status_fd: int) -> None:  # pragma: no cover
    """The middle process: new session and namespaces, then fork and wait for the server."""
    exit_code = 70
    try:
        _die_with_parent()
        os.setsid()
        note = _unshare(box.limits.isolate_network)
        if note:
            _send(status_fd, {"note": note})
        server = os.fork()
        if server == 0:
            _run_server(box, code, status_fd)
        _send(status_fd, {"server": server})
        os.close(status_fd)
        _, status = os.waitpid(server, 0)
        code_ = os.waitstatus_to_exitcode(status)
        exit_code = code_ if code_ >= 0 else 128 - code_
    finally:
        os._exit(exit_code)


def _die_with_parent() -> None:  # pragma: no cover
    """Be killed when the grader process that forked us dies, whatever the reason."""
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(70)


def _unshare(isolate_network: bool) -> str | None:
    """Enter new PID (and network) namespaces; say what could not be done."""
    flags = CLONE_NEWPID | (CLONE_NEWNET if isolate_network else 0)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) == 0:
        return None
    error = os.strerror(ctypes.get_errno())
    return f"namespaces unavailable ({error}): no network or PID isolation for this submission"


def _run_server(box: Sandbox, code: Path, status_fd: int) -> None:  # pragma: no cover
    """The server process: jail, import the module, serve it; never returns."""
    try:
        _jail(box, code, status_fd)
        try:
            module = load_exercise(code, box.ex)
        except SubmissionError as exc:
            _send(status_fd, {"error": exc.message, "details": exc.details})
            os._exit(0)
        fixtures.install(module, box.ex, box.feed_address)
        _serve(Probe(module.app, box.ex.filename), box.socket_path, status_fd)
    finally:
        os._exit(0)


def _jail(box: Sandbox, code: Path, status_fd: int) -> None:  # pragma: no cover
    """Limits, a private directory and environment, and an import path without the grader's tree."""
    _die_with_parent()
    os.closerange(3, status_fd)
    os.closerange(status_fd + 1, 1024)
    log = os.open(box.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    home = box.workdir / "home"
    os.chdir(home)
    os.environ.clear()
    os.environ.update({"HOME": str(home), "TMPDIR": str(home), "PATH": "/usr/bin:/bin"})
    os.environ.update({"LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"})
    sys.dont_write_bytecode = True
    sys.path[:] = [str(code), *_installed_paths()]
    _limit(box.limits)


def _installed_paths() -> list[str]:
    """The standard library and site-packages entries of sys.path, nothing else."""
    keep = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    return [p for p in sys.path if p and any(p.startswith(k) for k in keep if k)]


def _limit(limits: Limits) -> None:  # pragma: no cover
    """Apply resource limits on top of what the already-loaded grader uses."""
    in_use = _virtual_memory()
    resource.setrlimit(resource.RLIMIT_AS, (in_use + limits.memory, in_use + limits.memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output, limits.output))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _virtual_memory() -> int:
    """This process's current virtual memory size in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _serve(app: Probe, socket_path: Path, status_fd: int) -> None:  # pragma: no cover
    """Serve the app on a Unix socket with uvicorn, telling the grader once it listens."""
    import uvicorn

    class NotifyingServer(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            _send(status_fd, {"ready": True})

    config = uvicorn.Config(
        app,
        uds=str(socket_path),
        loop="asyncio",
        http="h11",
        lifespan="auto",
        log_level="warning",
        access_log=False,
    )
    NotifyingServer(config).run()
