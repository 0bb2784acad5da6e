"""What runs inside a sandbox: the processes ``grader.sandbox.Sandbox`` forks.

Two processes, each doing one thing:

- *init*, PID 1 of a fresh PID namespace, joins the sandbox's cgroups (its
  memory and process limits), starts a new session, enters fresh network, IPC
  and mount namespaces, mounts a capped tmpfs on the server's home and a /proc
  of its own, starts the server and reaps; when it exits, the kernel kills
  every process left in the namespace and drops its mounts and IPC objects;
- the *server* drops root for a user of its own, scrubs the grader's
  environment, applies the resource limits, may from then on open only Python,
  the grader, the submission, its home and a few system paths (Landlock),
  imports the submission's exercise modules one by one and serves their apps
  with uvicorn on the listening Unix socket the grader made and handed down,
  each behind the grader's probe, chosen per request by a header.

The grader trusts only init's note pipe, which is closed before any submitted
code runs, and learns init's PID from ``fork`` itself. The server's status pipe
says which module it is importing, which failed and why, and "ready": a
submission can write to it, but a lie there can only cost the submission itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import resource
import signal
import socket
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grader import landlock, mounts, output_log
from grader.errors import SubmissionError
from grader.exercises.base import Exercise
from grader.loader import load_exercise
from grader.probe import Dispatch, Probe

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
PR_SET_KEEPCAPS = 8
PR_SET_NO_NEW_PRIVS = 38
CAP_DAC_READ_SEARCH = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# Each sandbox runs as a user of its own (no account needed), so sandboxes graded
# at the same time cannot signal or read each other, nor anything of the grader's.
UID_BASE = 200_000
UID_SPAN = 100_000
MAX_PROCESSES = 256  # processes and threads of one sandbox's user
# Not the grader's own limit (often tens of thousands): a server serves a handful of requests.
MAX_OPEN_FILES = 1024
MAX_MESSAGE = 2000
MAX_DETAILS = 8000
FAILED = 70
SERVER_NAME = "grader-server"
# Besides Python and the submission, a server may read system libraries and programs,
# /proc, and the few files of /etc a program looks up: not the rest of /etc, which
# holds keys. It may write its home and these devices.
DEVICES = tuple(Path(f"/dev/{name}") for name in ("null", "zero", "random", "urandom"))
SYSTEM_READABLE = tuple(
    Path(path)
    for path in (
        "/usr",
        "/lib",
        "/lib64",
        "/bin",
        "/proc",
        "/etc/ld.so.cache",
        "/etc/localtime",
        "/etc/passwd",
        "/etc/group",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/etc/nsswitch.conf",
        "/etc/mime.types",
        "/etc/ssl",
    )
)


@dataclass(frozen=True)
class Plan:
    """Everything the sandbox's processes need, prepared by the grader before forking."""

    exercises: tuple[Exercise, ...]
    code: Path
    home: Path
    listen_fd: int  # the server's listening socket, made and named by the grader
    log_path: Path
    feed_fd: int | None  # the sandbox's end of the token feed's socket pair (exercise 3)
    memory: int
    cpu_seconds: int
    output: int
    isolate_network: bool
    foreign_modules: tuple[str, ...]
    info_fd: int
    status_fd: int
    scratch: int = 64 << 20  # bytes of the home tmpfs
    cgroup_procs: tuple[Path, ...] = ()  # init joins these cgroups before anything else


def send(fd: int, message: dict[str, Any]) -> None:
    """Write one status message: a JSON object on one line, its texts cut to a readable size."""
    capped = {k: v[:MAX_DETAILS] if isinstance(v, str) else v for k, v in message.items()}
    if isinstance(capped.get("error"), str):
        capped["error"] = capped["error"][:MAX_MESSAGE]
    with contextlib.suppress(OSError):
        os.write(fd, json.dumps(capped, default=str).encode() + b"\n")


def start_init(plan: Plan, close_in_child: tuple[int, ...] = ()) -> int:
    """Fork init, PID 1 of a fresh PID namespace when the kernel allows one; return its PID.

    Only init's children enter the namespace: this process leaves it again at
    once, so its own threads (which a new PID namespace would forbid) still start.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/self/ns/pid", os.O_RDONLY)
    try:
        entered = libc.unshare(CLONE_NEWPID) == 0  # root may; others get one in init
        forker = _this_thread()
        init = os.fork()
        if init == 0:
            die_with_parent(forker)
            for fd in (own, *close_in_child):
                os.close(fd)
            _join_cgroups(plan)
            _run_init(plan, in_pid_namespace=entered)
        if entered and libc.setns(own, CLONE_NEWPID) != 0:
            raise OSError(ctypes.get_errno(), "could not leave the sandbox's PID namespace")
    finally:
        os.close(own)
    return init


def _join_cgroups(plan: Plan) -> None:  # pragma: no cover
    """Move this process (and so all it will start) into the sandbox's cgroups."""
    for procs in plan.cgroup_procs:
        try:
            procs.write_text("0")  # 0: the writer; a PID would be read in the wrong namespace
        except OSError as exc:
            _note(plan, f"memory and process limits per sandbox unavailable ({exc.strerror})")
            return


def _enter_namespaces(plan: Plan) -> bool:  # pragma: no cover
    """Leave the machine's network, mounts and IPC objects for empty ones of our own.

    The network stays when the plan allows it. True when the mounts are our own.
    """
    flags = CLONE_NEWNS | CLONE_NEWIPC | (CLONE_NEWNET if plan.isolate_network else 0)
    if ctypes.CDLL(None, use_errno=True).unshare(flags):
        error = os.strerror(ctypes.get_errno())
        _note(plan, f"network, mount and IPC namespaces unavailable ({error})")
        return False
    return True


def _enter_user_namespace(plan: Plan) -> bool:  # pragma: no cover
    """Fresh PID, network, mount and IPC namespaces inside a user namespace of our own.

    The way without root, whose grader could not make the PID namespace. The
    first process forked afterwards is PID 1 there and goes on as init; this one
    stays outside, passing init's exit status on to the grader. True when the
    mounts are our own.
    """
    flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC
    flags |= CLONE_NEWNET if plan.isolate_network else 0
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(flags) != 0:
        error = os.strerror(ctypes.get_errno())
        _note(plan, f"PID, network, mount and IPC namespaces unavailable ({error})")
        return False
    mounts.map_own_ids(uid, gid)
    relay = _this_thread()
    init = os.fork()
    if init == 0:
        die_with_parent(relay)
        return True
    name_process("grader-relay")
    os.close(plan.info_fd)
    os.close(plan.status_fd)
    os._exit(_exit_code(os.waitpid(init, 0)[1]))


def _note(plan: Plan, note: str) -> None:
    """Tell the grader, on the pipe no submitted code holds, what isolation is missing."""
    send(plan.info_fd, {"note": f"{note}: this submission runs with less isolation"})


def _exit_code(status: int) -> int:
    """A wait status as an exit code: a signal N becomes 128 + N."""
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def name_process(name: str) -> None:
    """Show ``name`` for this process in ps and top (at most 15 characters)."""
    ctypes.CDLL(None).prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def _this_thread() -> str:
    """This thread as /proc names it ("PID/task/TID"), for ``die_with_parent`` in a child."""
    return str(Path("/proc/thread-self").readlink())


def die_with_parent(forker: str | None = None) -> None:  # pragma: no cover
    """Be killed when the thread that forked us dies, whatever the reason.

    The kernel sends the signal only if that thread is still alive once asked,
    so check that we are still its child: by getppid() in the same PID namespace,
    or, given ``forker`` (``_this_thread()`` before the fork), by /proc where
    getppid() would say 0 (a parent outside a new PID namespace).
    """
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if forker is None:
        orphaned = os.getppid() != parent
    else:
        try:
            children = Path(f"/proc/{forker}/children").read_text().split()
        except OSError:
            children = []
        orphaned = Path("/proc/self").readlink().name not in children
    if orphaned:
        os._exit(FAILED)


def _run_init(plan: Plan, *, in_pid_namespace: bool) -> NoReturn:  # pragma: no cover
    """PID 1: a session and network of its own, then start the server, reap, pass on its status.

    When init exits, the kernel kills every process left in its PID namespace.
    """
    code = FAILED
    try:
        name_process("grader-init")
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        enter = _enter_namespaces if in_pid_namespace else _enter_user_namespace
        own_mounts = enter(plan)
        if not landlock.abi_version():
            _note(plan, "file access limits unavailable (the kernel has no Landlock)")
        # /proc is the grader's, so /proc/self names this process's PID outside the namespace:
        # unique among live sandboxes, hence a user no other sandbox runs as.
        uid = UID_BASE + int(Path("/proc/self").readlink().name) % UID_SPAN
        if os.getuid() == 0:  # otherwise the server stays this user, who owns the folder already
            os.chown(plan.home, uid, uid)
        if own_mounts:
            _mount_private_places(plan, uid if os.getuid() == 0 else None)
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


def _mount_private_places(plan: Plan, owner: int | None) -> None:  # pragma: no cover
    """A capped tmpfs as the server's home, and a /proc showing only the sandbox."""
    try:
        mounts.keep_mounts_private()
    except OSError as exc:
        _note(plan, f"private mounts unavailable ({exc.strerror})")
        return
    for mount, what in (
        (lambda: mounts.scratch_space(plan.home, plan.scratch, owner), "private scratch space"),
        (mounts.own_proc, "private /proc"),
    ):
        try:
            mount()
        except OSError as exc:
            _note(plan, f"{what} unavailable ({exc.strerror})")


class _LifespanAnnounced:
    """An exercise app that tells the grader when its lifespan startup begins.

    The apps' startups run one after another once every module is imported; a
    startup that never returns is then blamed on its own exercise.
    """

    def __init__(self, app: ASGIApp, exercise_id: str, status_fd: int) -> None:
        self.app = app
        self.exercise_id = exercise_id
        self.status_fd = status_fd

    async def __call__(self, scope: Scope, receive: Receive, send_: Send) -> None:
        """Pass everything on; announce the lifespan's startup message as the app takes it."""
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send_)
            return

        async def announcing() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                send(self.status_fd, {"starting": self.exercise_id})
            return message

        await self.app(scope, announcing, send_)


def _run_server(plan: Plan, uid: int) -> NoReturn:  # pragma: no cover
    """Jail this process, import the modules and serve their apps; never returns."""
    try:
        preload_server()  # before the limits: they are for the submission, not for FastAPI
        _jail(plan, uid)
        apps = {ex.id: app for ex in plan.exercises if (app := _load(plan, ex)) is not None}
        told = {name: _LifespanAnnounced(app, name, plan.status_fd) for name, app in apps.items()}
        _serve(Dispatch(told), plan.listen_fd, plan.status_fd)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()  # the end of what it printed, for the report
        os._exit(0)


def _load(plan: Plan, ex: Exercise) -> Probe | None:  # pragma: no cover
    """Import one exercise module with the grader's data in it; None when it cannot be served."""
    send(plan.status_fd, {"importing": ex.id})
    try:
        module = load_exercise(plan.code, ex)
    except SubmissionError as exc:
        send(plan.status_fd, {"failed": ex.id, "error": exc.message, "details": exc.details})
        return None
    return ex.serve(module, plan.feed_fd)


def _jail(plan: Plan, uid: int) -> None:  # pragma: no cover
    """Standard streams, a private home, no inherited secrets, limits, and a user of its own."""
    die_with_parent()
    name_process(SERVER_NAME)
    keep = sorted({plan.status_fd, plan.listen_fd, plan.feed_fd or plan.status_fd})
    for low, high in zip((2, *keep), (*keep, 1 << 16), strict=True):
        os.closerange(low + 1, high)
    _redirect_output(plan.log_path)
    os.chdir(plan.home)
    _scrub_environment(plan.home)
    _limit(plan)
    if os.getuid() == 0:
        _become(uid)
    sys.dont_write_bytecode = True
    sys.path[:] = [str(plan.code), *installed_paths()]
    for name in plan.foreign_modules:
        sys.modules.pop(name, None)
    if landlock.abi_version():
        landlock.restrict_to_rules(
            [*landlock.readable_rules([plan.code], []), *_system_rules()], [plan.home, *DEVICES]
        )


def _become(uid: int) -> None:  # pragma: no cover
    """Drop root for ``uid``, keeping only the right to read files (no writes, no signals).

    Reading stays allowed because the interpreter and its packages may live where
    other users cannot read (a pyenv under /root, say) and the submission must still
    import the standard library; Landlock then narrows what may be opened at all
    (``grader.landlock``). NO_NEW_PRIVS stops a setuid binary from giving root back.
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
    """stdin from /dev/null; stdout and stderr to the log, as one bounded Python stream."""
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    # One stream for both, keeping the head and tail of a flood (grader.output_log).
    sys.stdout = sys.stderr = output_log.text_stream(1)


def _scrub_environment(home: Path) -> None:
    """Replace the environment, and zero the grader's original one in this process's memory."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    env_start, env_end = int(fields[47]), int(fields[48])  # fields 50 and 51 of proc(5)
    ctypes.memset(env_start, 0, env_end - env_start)
    os.environ.clear()
    os.environ.update(
        {"HOME": str(home), "TMPDIR": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    )


def _readable_system_paths() -> list[Path]:
    """What a server reads besides the submission: Python and system files, not the grader.

    Whatever of the grader a server runs is loaded before it is jailed: it opens
    no file of the kit afterwards.
    """
    return [*(Path(path) for path in installed_paths()), *SYSTEM_READABLE]


@functools.cache
def _system_rules() -> tuple[tuple[Path, int], ...]:
    """Landlock's read rules for the system paths, the kit hidden: the same for every server."""
    return tuple(landlock.readable_rules(_readable_system_paths(), kit_paths()))


def kit_paths(package: Path | None = None, installed: tuple[str, ...] | None = None) -> list[Path]:
    """The kit's files, kept from a server even where a folder it may read holds them.

    The grader ``package`` (its samples hold right answers; its code draws the
    secret inputs) and, when it runs from a clone, the whole clone (solutions,
    tests); not the folder it is installed in (site-packages, one of ``installed``).
    """
    package = package or Path(__file__).resolve().parent
    clone = package.parent
    places = {Path(path).resolve() for path in installed or installed_paths()}
    is_clone = (clone / "pyproject.toml").is_file() and clone not in places
    return [package, clone] if is_clone else [package]


@functools.cache
def installed_paths() -> tuple[str, ...]:
    """The standard library and site-packages entries of sys.path, nothing else."""
    keep = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    return tuple(p for p in sys.path if p and any(p.startswith(k) for k in keep if k))


def foreign_modules() -> tuple[str, ...]:
    """Modules this process imported from outside the installed packages and the grader.

    A process that imported, say, the reference solutions (a test run) must not
    hand them to the submission through sys.modules. Found here, before forking,
    and cached while nothing new is imported: scanning sys.modules in every
    server would copy the pages of every module object it touches.
    """
    return _foreign_modules_among(len(sys.modules))


@functools.lru_cache(maxsize=1)
def _foreign_modules_among(count: int) -> tuple[str, ...]:
    """The foreign modules while ``count`` modules are loaded (the count keys the cache)."""
    return tuple(_scan_foreign_modules())


def _scan_foreign_modules() -> Iterator[str]:
    """The names of sys.modules entries whose files lie outside the allowed places."""
    allowed = (*installed_paths(), str(Path(__file__).resolve().parent))
    for name, module in sys.modules.copy().items():  # one step: another thread may import
        # vars(), not getattr(): a module-level __getattr__ (pydantic's, say) is slow, or lies.
        attributes = vars(module) if isinstance(module, ModuleType) else {}
        places = [attributes.get("__file__"), *list(attributes.get("__path__") or [])]
        places = [str(place) for place in places if place]
        if places and not any(place.startswith(allowed) for place in places):
            yield name


def _limit(plan: Plan) -> None:  # pragma: no cover
    """Resource limits on top of what the already-loaded grader uses."""
    memory = _virtual_memory() + plan.memory
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (plan.cpu_seconds, plan.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (plan.output, plan.output))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    files = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(MAX_OPEN_FILES, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))


def _virtual_memory() -> int:
    """This process's current virtual memory size in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


@functools.cache
def preload_server() -> None:
    """Import what a server needs; done once by a grader that forks many servers."""
    import anyio._backends._asyncio  # anyio would load it on each server's first request
    import anyio.streams.buffered  # noqa: F401
    import uvicorn.lifespan.on
    import uvicorn.loops.uvloop
    import uvicorn.protocols.http.httptools_impl  # noqa: F401

    app = _build_an_exercise_app()
    server_config(app).load()  # binds nothing
    _warm_first_request(app)
    installed_paths()
    _system_rules()


def _warm_first_request(app: Any) -> None:
    """Do once here what FastAPI and Starlette do lazily on a server's first requests.

    FastAPI reads each endpoint's source lines on its first call (for error
    messages), which compiles the tokenizer's patterns: ~4 ms a server, paid once
    here instead. Query strings are unquoted with a table built on first use, and
    the app's lifespan imports FastAPI's runtime hooks on first start.
    """
    import inspect
    import urllib.parse

    import fastapi.telemetry._runtime  # noqa: F401

    for route in app.routes:
        with contextlib.suppress(OSError, TypeError):
            inspect.getsourcelines(getattr(route, "endpoint", _warm_first_request))
    urllib.parse.unquote("%41")


def _build_an_exercise_app() -> Any:
    """Build an app with the exercises' kinds of route.

    FastAPI imports what a route needs (pydantic.v1 checks for a query
    parameter, say) when the route is declared: doing it here once spares every
    server child ~25 ms.
    """
    from collections.abc import AsyncIterable

    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse
    from fastapi.sse import EventSourceResponse, ServerSentEvent

    app = FastAPI()

    @app.get("/text")
    def text(prompt: str = "") -> StreamingResponse:
        def lines() -> Iterator[str]:
            yield prompt

        return StreamingResponse(lines(), media_type="text/plain")

    @app.get("/events", response_class=EventSourceResponse)
    async def events(prompt: str = "") -> AsyncIterable[ServerSentEvent]:
        yield ServerSentEvent(raw_data=prompt)

    return app


def server_config(app: Any) -> Any:
    """The uvicorn configuration every sandbox's server uses (the socket is the grader's).

    uvloop and httptools, as ``uvicorn[standard]`` runs in production: a sandbox's
    server spends about two thirds of the CPU that asyncio's loop and h11 take on
    the same streamed requests (``benchmarks/sandbox_server.py``), and a batch of a
    class is bound by CPU.
    """
    import uvicorn

    return uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="auto",
        log_level="warning",
        log_config=None,  # dictConfig costs milliseconds per sandbox; warnings still print
        access_log=False,
    )


def _serve(app: Dispatch, listen_fd: int, status_fd: int) -> None:  # pragma: no cover
    """Serve the app with uvicorn on the grader's socket, telling the grader once it listens.

    The grader made, named and listens on that socket: nothing in the sandbox
    can rename it or put another in its place.
    """
    import uvicorn

    class NotifyingServer(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            sys.stdout.flush()  # what the modules printed is in the log once the server is ready
            send(status_fd, {"ready": True})

    listener = socket.socket(fileno=listen_fd)
    NotifyingServer(server_config(app)).run(sockets=[listener])
