"""What runs inside a sandbox: the processes ``grader.sandbox.Sandbox`` forks.

Three processes, each doing one thing:

- the *keeper* starts a new session, enters fresh PID and network namespaces,
  tells the grader the PID of the namespace's init, and waits for it;
- *init* (PID 1 of the namespace) starts the server and reaps; when it exits,
  the kernel kills every process left in the namespace;
- the *server* drops root for a user of its own, scrubs the grader's
  environment, applies the resource limits, imports the exercise module and
  serves its app with uvicorn on a Unix socket.

The grader trusts only the keeper's pipe, which is closed before any submitted
code runs. The server's status pipe says "ready" or why the import failed: a
submission can write to it, but a lie there can only cost the submission itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from grader import fixtures
from grader.contract import Exercise
from grader.loader import SubmissionError, load_exercise
from grader.probe import Probe

CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_SET_NO_NEW_PRIVS = 38
CAP_DAC_READ_SEARCH = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# Each sandbox runs as a user of its own (no account needed), so sandboxes graded
# at the same time cannot signal or read each other, nor anything of the grader's.
UID_BASE = 200_000
UID_SPAN = 100_000
MAX_PROCESSES = 256  # processes and threads of one sandbox's user
MAX_MESSAGE = 2000
MAX_DETAILS = 8000
FAILED = 70


@dataclass(frozen=True)
class Plan:
    """Everything the sandbox's processes need, prepared by the grader before forking."""

    ex: Exercise
    code: Path
    home: Path
    socket_path: Path
    log_path: Path
    feed_address: str | None
    memory: int
    cpu_seconds: int
    output: int
    isolate_network: bool
    info_fd: int
    status_fd: int


def send(fd: int, message: dict[str, Any]) -> None:
    """Write one status message: a JSON object on one line, its texts cut to a readable size."""
    capped = {k: v[:MAX_DETAILS] if isinstance(v, str) else v for k, v in message.items()}
    if isinstance(capped.get("error"), str):
        capped["error"] = capped["error"][:MAX_MESSAGE]
    with contextlib.suppress(OSError):
        os.write(fd, json.dumps(capped, default=str).encode() + b"\n")


def run_keeper(plan: Plan) -> NoReturn:  # pragma: no cover - runs in a forked child
    """New session and namespaces, then start init and wait for it."""
    code = FAILED
    try:
        _die_with_parent()
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        note = _unshare(plan.isolate_network)
        if note:
            send(plan.info_fd, {"note": note})
        uid = UID_BASE + os.getpid() % UID_SPAN
        os.chown(plan.home, uid, uid)
        init = os.fork()
        if init == 0:
            _run_init(plan, uid)
        send(plan.info_fd, {"init": init})
        os.close(plan.info_fd)
        os.close(plan.status_fd)
        code = _exit_code(os.waitpid(init, 0)[1])
    finally:
        os._exit(code)


def _exit_code(status: int) -> int:
    """A wait status as an exit code: a signal N becomes 128 + N."""
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def _die_with_parent() -> None:  # pragma: no cover
    """Be killed when the process that forked us dies, whatever the reason."""
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(FAILED)


def _unshare(isolate_network: bool) -> str | None:
    """Enter new PID (and network) namespaces; say what could not be done."""
    flags = CLONE_NEWPID | (CLONE_NEWNET if isolate_network else 0)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) == 0:
        return None
    error = os.strerror(ctypes.get_errno())
    return f"namespaces unavailable ({error}): no network or PID isolation for this submission"


def _run_init(plan: Plan, uid: int) -> NoReturn:  # pragma: no cover
    """PID 1: start the server, reap every orphan, exit with the server's status."""
    code = FAILED
    try:
        _die_with_parent()
        os.close(plan.info_fd)
        server = os.fork()
        if server == 0:
            _run_server(plan, uid)
        os.close(plan.status_fd)
        while True:
            pid, status = os.wait()
            if pid == server:
                code = _exit_code(status)
                break
    finally:
        os._exit(code)


def _run_server(plan: Plan, uid: int) -> NoReturn:  # pragma: no cover
    """Jail this process, import the module and serve it; never returns."""
    try:
        _jail(plan, uid)
        try:
            module = load_exercise(plan.code, plan.ex)
        except SubmissionError as exc:
            send(plan.status_fd, {"error": exc.message, "details": exc.details})
            os._exit(0)
        fixtures.install(module, plan.ex, plan.feed_address)
        _serve(Probe(module.app, plan.ex.filename), plan.socket_path, plan.status_fd)
    finally:
        os._exit(0)


def _jail(plan: Plan, uid: int) -> None:  # pragma: no cover
    """Standard streams, a private home, no inherited secrets, limits, and a user of its own."""
    _die_with_parent()
    os.closerange(3, plan.status_fd)
    os.closerange(plan.status_fd + 1, 1 << 16)
    _redirect_output(plan.log_path)
    os.chdir(plan.home)
    _scrub_environment(plan.home)
    _limit(plan)
    if os.getuid() == 0:
        _become(uid)
    sys.dont_write_bytecode = True
    sys.path[:] = [str(plan.code), *_installed_paths()]
    _forget_foreign_modules()


def _become(uid: int) -> None:  # pragma: no cover
    """Drop root for ``uid``, keeping only the right to read files (no writes, no signals).

    Reading stays allowed because the interpreter and its packages may live where
    other users cannot read (a pyenv under /root, say) and the submission must still
    import the standard library. NO_NEW_PRIVS stops a setuid binary from giving
    root back.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    read_only = 1 << CAP_DAC_READ_SEARCH
    # effective, permitted, inheritable for capabilities 0-31, then the same for 32-63
    data = (ctypes.c_uint32 * 6)(read_only, read_only, 0, 0, 0, 0)
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _redirect_output(log_path: Path) -> None:
    """stdin from /dev/null; stdout and stderr to the log, as fresh Python streams."""
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115


def _scrub_environment(home: Path) -> None:
    """Replace the environment, and zero the grader's original one in this process's memory."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    env_start, env_end = int(fields[47]), int(fields[48])  # fields 50 and 51 of proc(5)
    ctypes.memset(env_start, 0, env_end - env_start)
    os.environ.clear()
    os.environ.update(
        {"HOME": str(home), "TMPDIR": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    )


def _installed_paths() -> list[str]:
    """The standard library and site-packages entries of sys.path, nothing else."""
    keep = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    return [p for p in sys.path if p and any(p.startswith(k) for k in keep if k)]


def _forget_foreign_modules() -> None:
    """Drop modules the forking process imported from outside the installed packages.

    A process that imported, say, the reference solutions (a test run) must not
    hand them to the submission through sys.modules.
    """
    allowed = (*_installed_paths(), str(Path(__file__).resolve().parent))
    for name, module in list(sys.modules.items()):
        places = [getattr(module, "__file__", None), *list(getattr(module, "__path__", None) or [])]
        places = [str(place) for place in places if place]
        if places and not any(place.startswith(allowed) for place in places):
            del sys.modules[name]


def _limit(plan: Plan) -> None:  # pragma: no cover
    """Resource limits on top of what the already-loaded grader uses."""
    memory = _virtual_memory() + plan.memory
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (plan.cpu_seconds, plan.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (plan.output, plan.output))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))


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
            send(status_fd, {"ready": True})

    config = uvicorn.Config(
        app,
        uds=str(socket_path),
        loop="asyncio",
        http="h11",
        lifespan="auto",
        log_level="warning",
        log_config=None,  # dictConfig costs milliseconds per sandbox; warnings still print
        access_log=False,
    )
    NotifyingServer(config).run()
