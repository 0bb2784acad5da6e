"""The CPU a sandbox's server spends per request: uvloop and httptools vs asyncio's loop and h11.

Each grading starts a fresh server in a sandbox and sends it a handful of
requests, and a batch of a class is bound by CPU, so what uvicorn spends per
request adds up. Two servers run side by side, each with the grader's own
configuration (``grader.jail.server_config``) but for the loop and the HTTP
parser, and serve the same app, whose routes are the lesson's kinds: lines
streamed as text, and events streamed with ``EventSourceResponse``. The grader's
client asks each the same requests, the two taking turns run by run, and each
server's CPU is read from the kernel (``/proc/<pid>/task/*/schedstat``).

    .venv/bin/python -m benchmarks.sandbox_server             # 10 runs of 60 requests a side
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterable, Iterator
from pathlib import Path

from benchmarks import timing
from grader import jail
from grader.http_client import unix_socket_client

MODULE = "benchmarks.sandbox_server"
VARIANTS = {"uvloop + httptools": ("uvloop", "httptools"), "asyncio + h11": ("asyncio", "h11")}
ITEMS = 8  # lines or events per response, about what the grader's inputs hold
START_TIMEOUT = 30.0


def build_app() -> object:
    """An app with the lesson's two kinds of streaming route."""
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse
    from fastapi.sse import EventSourceResponse, ServerSentEvent

    app = FastAPI()

    @app.get("/lines")
    def lines() -> StreamingResponse:
        return StreamingResponse((f"line {i}\n" for i in range(ITEMS)), media_type="text/plain")

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterable[ServerSentEvent]:
        for i in range(ITEMS):
            yield ServerSentEvent(data=f"event {i}")

    return app


@contextlib.contextmanager
def server(folder: Path, loop: str, http: str) -> Iterator[tuple[int, str]]:
    """A forked uvicorn server on a Unix socket, with this loop and parser: (its PID, socket)."""
    import uvicorn

    sock = folder / f"{loop}-{http}.sock"
    path = str(sock)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the server
        try:
            config = jail.server_config(build_app())
            config.loop, config.http, config.uds = loop, http, path
            uvicorn.Server(config).run()
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not sock.exists():
            if time.monotonic() > deadline:
                sys.exit(f"the {loop} + {http} server did not start in {START_TIMEOUT:g} s")
            time.sleep(0.01)
        yield pid, path
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def cpu_of(pid: int) -> float:
    """CPU seconds every thread of process ``pid`` has run so far (the kernel's count)."""
    tasks = Path(f"/proc/{pid}/task")
    return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks.iterdir()) / 1e9


def one_run(pid: int, path: str, requests: int) -> tuple[float, float]:
    """Server and client CPU seconds per request over ``requests`` streamed requests."""
    with unix_socket_client(path, timeout=10.0) as client:
        server_before, client_before = cpu_of(pid), time.process_time()
        for index in range(requests):
            with client.stream("GET", "/lines" if index % 2 else "/events") as response:
                for _ in response.iter_raw():
                    pass
        server_used, client_used = cpu_of(pid) - server_before, time.process_time() - client_before
    return server_used / requests, client_used / requests


def measure(runs: int, requests: int) -> dict[str, dict[str, list[float]]]:
    """Per variant, the server's and the client's CPU per request of each run, taking turns."""
    figures = {name: {"server": [], "client": []} for name in VARIANTS}
    with (
        tempfile.TemporaryDirectory(prefix="grader-server-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        servers = {
            name: stack.enter_context(server(Path(tmp), loop, http))
            for name, (loop, http) in VARIANTS.items()
        }
        for round_number in range(runs + 1):  # the first round warms both up
            for name, (pid, path) in servers.items():
                server_cpu, client_cpu = one_run(pid, path, requests)
                if round_number:
                    figures[name]["server"].append(server_cpu)
                    figures[name]["client"].append(client_cpu)
    return figures


def report(figures: dict[str, dict[str, list[float]]], runs: int, requests: int) -> None:
    """Print the ratios, grader's choice first."""
    chosen, other = VARIANTS
    print(f"{runs} runs of {requests} streamed requests ({ITEMS} items each) per side:")
    for side in ("server", "client"):
        line = timing.ratio_line(
            f"  {side} CPU per request, {chosen} vs {other}",
            figures[chosen][side],
            figures[other][side],
        )
        print(line)


def main(argv: list[str] | None = None) -> int:
    """Measure and print, with the command that repeats it."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__)
    parser.add_argument(
        "--runs", type=timing.positive_int, default=10, help="timed runs per side (default 10)"
    )
    parser.add_argument(
        "--requests",
        type=timing.positive_int,
        default=60,
        help="requests in each run, half of each kind (default 60)",
    )
    ns = parser.parse_args(argv)
    report(measure(ns.runs, ns.requests), ns.runs, ns.requests)
    print(f"reproduce: {timing.reproduce_line(MODULE, argv)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
