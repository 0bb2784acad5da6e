"""Who forks a sandbox's init: this process, or a pristine fork server beside it.

A sandbox starts as a copy of the memory of the process that forks it. A batch
worker grades submission after submission, and the files and responses of each
stay in its freed memory: a sandbox forked from it could read a classmate's
work there. So a worker first forks a *fork server*, a copy of itself taken
before it reads any submission, which from then on forks every sandbox of that
worker on request and does nothing else. The worker itself stays warm across
submissions, instead of forking a fresh grading process for each one.

This is the idea of multiprocessing's "forkserver" start method, but that one
starts a fresh interpreter and imports again; here the server is a fork of a
process that has already imported FastAPI, so a sandbox still starts in
milliseconds. The worker sends the plan (pickled: both ends are the grader) and
the descriptors the sandbox inherits (``SCM_RIGHTS``) over a socket pair, and
the server answers with init's PID, and later with its wait status, since only
a parent can reap a child.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import pickle
import socket
import traceback
from collections.abc import Iterable
from typing import Any, Protocol

from grader import jail
from grader.exercises.base import Exercise
from grader.feed import Turn

FORKER_NAME = "grader-forker"
MAX_MESSAGE = 256 * 1024  # a pickled plan is a few KiB
PLAN_FDS = ("info_fd", "status_fd", "listen_fd", "feed_fd")  # what init inherits


class Forker(Protocol):
    """Forks a sandbox's init and reaps it."""

    def start(self, plan: jail.Plan, close_in_child: tuple[int, ...]) -> int:
        """Fork init for ``plan``; return its PID. ``close_in_child``: this process's own fds."""
        ...

    def wait(self, pid: int, *, block: bool) -> int | None:
        """Reap init: its wait status, or None while it runs (``block`` False)."""
        ...


class HereForker:
    """Forks in this process: for a grader that holds no other submission's data."""

    def start(self, plan: jail.Plan, close_in_child: tuple[int, ...]) -> int:
        """Fork init from this process."""
        if Turn.opened:  # the feed state of earlier requests may linger as garbage: drop it
            gc.collect()
        return jail.start_init(plan, close_in_child=close_in_child)

    def wait(self, pid: int, *, block: bool) -> int | None:
        """Reap our own child."""
        got, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        return status if got else None


class ForkServer:
    """A fork server for this process's sandboxes; a context manager that stops it.

    Make it before this process reads anything of a submission, and from a single
    thread: the server is a copy of this process as it is now.
    """

    def __init__(
        self, exercises: Iterable[Exercise], close_in_server: tuple[int, ...] = ()
    ) -> None:
        known = {ex.id: ex for ex in exercises}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the fork server
            code = 1
            try:
                jail.die_with_parent()
                ours.close()
                for fd in close_in_server:
                    os.close(fd)
                jail.name_process(FORKER_NAME)
                _serve(theirs, known)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        theirs.close()
        self._socket = ours

    def start(self, plan: jail.Plan, close_in_child: tuple[int, ...]) -> int:
        """Have the server fork init; our own descriptors never reach it."""
        fds = [fd for name in PLAN_FDS if (fd := getattr(plan, name)) is not None]
        # Exercises go by id: the server has the very objects, which the checks compare by identity.
        ids = tuple(ex.id for ex in plan.exercises)
        return self._ask(b"S" + pickle.dumps(dataclasses.replace(plan, exercises=ids)), fds)["pid"]

    def wait(self, pid: int, *, block: bool) -> int | None:
        """Have the server reap init; ChildProcessError when the server (and so init) is gone."""
        return self._ask(b"W" + json.dumps({"pid": pid, "block": block}).encode())["status"]

    def _ask(self, message: bytes, fds: list[int] | None = None) -> dict[str, Any]:
        """Send one request and return the server's answer.

        Raise ChildProcessError when the server is gone, OSError with the error it met.
        """
        data = b""
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if self._socket.fileno() >= 0:  # not closed yet
                socket.send_fds(self._socket, [message], fds or [])
                data = self._socket.recv(MAX_MESSAGE)
        if not data:
            raise ChildProcessError(f"the sandbox fork server (PID {self.pid}) is gone")
        answer = json.loads(data)
        if "error" in answer:
            raise OSError(answer["error"])
        return answer

    def close(self) -> None:
        """Stop the server (it exits when its socket closes, its sandboxes with it) and reap it."""
        self._socket.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(
    sock: socket.socket, known: dict[str, Exercise]
) -> None:  # pragma: no cover - runs in the fork server
    """Answer start and wait requests until the worker closes its end."""
    here = HereForker()
    while True:
        data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, len(PLAN_FDS))
        if not data:
            return
        try:
            if data[:1] == b"S":
                plan = pickle.loads(data[1:])
                plan = dataclasses.replace(plan, exercises=tuple(known[i] for i in plan.exercises))
                answer = {"pid": _start(here, sock, plan, fds)}
            else:
                request = json.loads(data[1:])
                answer = {"status": here.wait(request["pid"], block=request["block"])}
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(json.dumps(answer).encode())


def _start(here: HereForker, sock: socket.socket, plan: jail.Plan, fds: list[int]) -> int:
    """Fork init for ``plan``, its descriptors renumbered to the ones received here."""
    received = iter(fds)
    numbers = {name: next(received) for name in PLAN_FDS if getattr(plan, name) is not None}
    return here.start(dataclasses.replace(plan, **numbers), close_in_child=(sock.fileno(),))
