"""Run a uvicorn server on a free loopback port for the length of a `with` block.

`serve_in_thread` runs an app inside this process (a notebook, a test); `serve_in_process`
runs it as a separate process (a benchmark that measures the server's own memory).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.importer import import_from_string

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 15.0
SHUTDOWN_TIMEOUT_S = 10.0
# Open streams get this long to finish once the server is asked to stop, then are cancelled.
GRACEFUL_SHUTDOWN_S = 2
POLL_INTERVAL_S = 0.01
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServerProcess:
    """A uvicorn server running as a child process."""

    url: str
    pid: int


def bind_loopback_socket() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1 (the OS picks the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    return sock


def wait_until(ready: Callable[[], bool], alive: Callable[[], bool], timeout: float) -> None:
    """Poll `ready` until true; fail early if the server died and after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if not alive():
            raise RuntimeError("the uvicorn server stopped before it was ready")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the uvicorn server was not ready within {timeout:g} s")
        time.sleep(POLL_INTERVAL_S)


@contextmanager
def serve_in_thread(
    app: str | Callable[..., Any],
    *,
    timeout: float = STARTUP_TIMEOUT_S,
    graceful_shutdown_s: int = GRACEFUL_SHUTDOWN_S,
) -> Iterator[str]:
    """Serve an ASGI app (or an "module:attr" string) from a background thread; yield its URL.

    `uvicorn.run` starts its own event loop with `asyncio.run`, which refuses to run where a
    loop is already running (a Jupyter kernel). A fresh thread has no loop, so the server
    gets its own there. On the way out, responses still streaming get `graceful_shutdown_s`
    seconds to finish before they are cancelled.
    """
    if isinstance(app, str):
        app = import_from_string(app)  # a bad name fails here, in the caller, with its reason
    sock = bind_loopback_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", timeout_graceful_shutdown=graceful_shutdown_s
    )
    server = uvicorn.Server(config)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # uvicorn exits with SystemExit when it cannot start
            failures.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        try:
            wait_until(lambda: server.started, thread.is_alive, timeout)
        except RuntimeError as exc:
            raise exc from (failures[0] if failures else None)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(graceful_shutdown_s + SHUTDOWN_TIMEOUT_S)
        if thread.is_alive():
            server.force_exit = True
            thread.join(SHUTDOWN_TIMEOUT_S)
        sock.close()


def accepts_connections(port: int) -> bool:
    """Whether something on the loopback port accepts a TCP connection."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A loopback port that was free a moment ago (for a child process to bind)."""
    with bind_loopback_socket() as sock:
        return sock.getsockname()[1]


@contextmanager
def serve_in_process(
    app_ref: str, *, timeout: float = STARTUP_TIMEOUT_S, cwd: Path = REPO_ROOT
) -> Iterator[ServerProcess]:
    """Serve `app_ref` ("module:attr", importable from `cwd`) with uvicorn in a child process."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app_ref, "--host", HOST, "--port", str(port)]
    command += ["--log-level", "warning", "--lifespan", "off", "--no-access-log"]
    process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: accepts_connections(port), lambda: process.poll() is None, timeout)
        yield ServerProcess(url=f"http://{HOST}:{port}", pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(SHUTDOWN_TIMEOUT_S)
