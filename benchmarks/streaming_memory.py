"""Streaming versus building the whole body first, served by uvicorn and read by a real client.

For each body size and each way of serving it, a fresh uvicorn process serves GET /body?mib=N
and an httpx2 client streams the response and throws the bytes away. Measured side by side:

- server peak memory: the growth of the server's peak RSS (VmHWM) during the requests;
- time to first byte: from sending the request to the first body byte;
- throughput, against the ceiling of a bare ASGI app (no FastAPI) sending the same chunks.

Run from the repo root (Linux: it reads /proc/PID/status):

    .venv/bin/python -m benchmarks.streaming_memory              # 1, 10, 100, 1000 MiB
    .venv/bin/python -m benchmarks.streaming_memory --max-mb 10  # a quick run

It prints the figures and writes them to benchmarks/streaming_memory.json, which
lessons/04_see_it_stream.ipynb plots.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx2
from fastapi import FastAPI
from fastapi.responses import Response, StreamingResponse

from benchmarks.timing import machine, relative_to_root
from lessons.demo.serve import serve_in_process

MIB = 1024 * 1024
CHUNK_SIZE = 64 * 1024
CHUNK = b"x" * CHUNK_SIZE
SIZES_MIB = (1, 10, 100, 1000)
REPEATS = 5
# Small bodies are quick and noisy: repeat them until about this much was sent (capped).
MIN_MIB_PER_MEASUREMENT = 200
MAX_REPEATS = 50
CLIENT_TIMEOUT_S = 120.0
MEDIA_TYPE = "application/octet-stream"
PROC_STATUS = "/proc/self/status"
RESULTS = Path(__file__).with_name("streaming_memory.json")
COMMAND = ".venv/bin/python -m benchmarks.streaming_memory"
# Goals the printed summary checks (never asserted in tests).
STREAMING_PEAK_GOAL_MIB = 20.0
STREAMING_TTFB_GOAL_MS = 20.0


def body_chunks(mib: int) -> Iterator[bytes]:
    """The body: `mib` MiB as CHUNK_SIZE chunks."""
    for _ in range(mib * MIB // CHUNK_SIZE):
        yield CHUNK


async def async_body_chunks(mib: int) -> AsyncIterator[bytes]:
    """The same body from an async generator (no thread hop per chunk)."""
    for chunk in body_chunks(mib):
        yield chunk


streaming_app = FastAPI()
streaming_sync_app = FastAPI()
buffered_app = FastAPI()


@streaming_app.get("/body")
async def streamed_body(mib: int) -> StreamingResponse:
    """Stream the body chunk by chunk from an async generator."""
    return StreamingResponse(async_body_chunks(mib), media_type=MEDIA_TYPE)


@streaming_sync_app.get("/body")
def streamed_body_sync(mib: int) -> StreamingResponse:
    """Stream the body from a plain generator, which Starlette iterates in its thread pool."""
    return StreamingResponse(body_chunks(mib), media_type=MEDIA_TYPE)


@buffered_app.get("/body")
def buffered_body(mib: int) -> Response:
    """Build the whole body in memory first, then send it as one response."""
    return Response(b"".join(body_chunks(mib)), media_type=MEDIA_TYPE)


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def bare_asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ceiling: plain ASGI sending the same chunks, with no framework in between."""
    if scope["type"] != "http":
        return
    query = dict(part.partition("=")[::2] for part in scope["query_string"].decode().split("&"))
    headers = [(b"content-type", MEDIA_TYPE.encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for chunk in body_chunks(int(query["mib"])):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


# mode -> the app serving it, as uvicorn imports it from the repo root. Requests go in this
# order each round, so streaming and its bare ASGI ceiling run back to back.
MODES = {
    "streaming": "benchmarks.streaming_memory:streaming_app",
    "bare_asgi": "benchmarks.streaming_memory:bare_asgi_app",
    "streaming_sync": "benchmarks.streaming_memory:streaming_sync_app",
    "buffered": "benchmarks.streaming_memory:buffered_app",
}
CEILING_INDEX = list(MODES).index("bare_asgi")


@dataclass(frozen=True)
class Fetch:
    """One request as the client saw it."""

    ttfb_s: float
    total_s: float
    size_bytes: int


@dataclass(frozen=True)
class Measurement:
    """One mode at one size: the server's peak-memory growth and the client's medians."""

    mode: str
    size_mib: int
    peak_rss_increase_mib: float
    ttfb_ms: float
    throughput_mib_s: float
    # Median over rounds of this mode's speed / bare ASGI's speed in the same round.
    throughput_vs_bare_asgi: float
    requests: int


def fetch(client: httpx2.Client, url: str) -> Fetch:
    """Stream one response, discarding the bytes; time the first byte and the whole body."""
    started = time.perf_counter()
    first = None
    size = 0
    with client.stream("GET", url) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            if first is None and chunk:
                first = time.perf_counter()
            size += len(chunk)
    finished = time.perf_counter()
    return Fetch((first or finished) - started, finished - started, size)


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def requests_for(size_mib: int, repeats: int) -> int:
    """How many requests to time at one size: `repeats`, more for small bodies."""
    return max(repeats, min(MAX_REPEATS, math.ceil(MIN_MIB_PER_MEASUREMENT / size_mib)))


@dataclass(frozen=True)
class Server:
    """One mode's server process and the client talking to it."""

    mode: str
    pid: int
    client: httpx2.Client


def summarise(
    server: Server, size_mib: int, baseline: int, fetches: list[Fetch], ceiling: list[Fetch]
) -> Measurement:
    """Check every body came in whole, then reduce one mode's fetches to a measurement.

    `ceiling` holds bare ASGI's fetches of the same rounds: pairing each request with its
    neighbour keeps a busy moment of the machine out of the ratio.
    """
    if any(f.size_bytes != size_mib * MIB for f in fetches):
        raise RuntimeError(f"{server.mode}: got {[f.size_bytes for f in fetches]} bytes")
    return Measurement(
        mode=server.mode,
        size_mib=size_mib,
        peak_rss_increase_mib=(peak_rss_bytes(server.pid) - baseline) / MIB,
        ttfb_ms=statistics.median(f.ttfb_s for f in fetches) * 1000,
        throughput_mib_s=statistics.median(size_mib / f.total_s for f in fetches),
        throughput_vs_bare_asgi=statistics.median(
            bare.total_s / mine.total_s for mine, bare in zip(fetches, ceiling, strict=True)
        ),
        requests=len(fetches),
    )


def measure_size(size_mib: int, repeats: int) -> list[Measurement]:
    """Every mode at one size: a fresh server process each, requests taken in turns.

    Taking turns (one request per mode per round) spreads a noisy machine's slow moments
    over all modes alike, so their ratios stay meaningful.
    """
    with ExitStack() as stack:
        servers = []
        for mode, app_ref in MODES.items():
            process = stack.enter_context(serve_in_process(app_ref))
            client = httpx2.Client(base_url=process.url, timeout=CLIENT_TIMEOUT_S)
            servers.append(Server(mode, process.pid, stack.enter_context(client)))
        for server in servers:
            fetch(server.client, "/body?mib=0")  # warm up the code path before the baseline
        baselines = [peak_rss_bytes(server.pid) for server in servers]
        fetches: list[list[Fetch]] = [[] for _ in servers]
        for _ in range(requests_for(size_mib, repeats)):
            for server, done in zip(servers, fetches, strict=True):
                done.append(fetch(server.client, f"/body?mib={size_mib}"))
        return [
            summarise(server, size_mib, baseline, done, fetches[CEILING_INDEX])
            for server, baseline, done in zip(servers, baselines, fetches, strict=True)
        ]


def by_mode(measurements: list[Measurement]) -> dict[tuple[str, int], Measurement]:
    """Index measurements by (mode, size)."""
    return {(m.mode, m.size_mib): m for m in measurements}


def ratio_line(table: dict[tuple[str, int], Measurement], size: int) -> str:
    """One size's side-by-side figures: streaming against buffered and against bare ASGI."""
    streaming, buffered = table["streaming", size], table["buffered", size]
    sync = table["streaming_sync", size]
    return (
        f"{size} MiB: streaming peak +{streaming.peak_rss_increase_mib:.1f} MiB"
        f" vs buffered +{buffered.peak_rss_increase_mib:.1f} MiB;"
        f" TTFB {streaming.ttfb_ms:.1f} ms vs {buffered.ttfb_ms:.1f} ms;"
        f" throughput {streaming.throughput_vs_bare_asgi:.2f}x of bare ASGI"
        f" (def generator {sync.throughput_vs_bare_asgi:.2f}x,"
        f" buffered {buffered.throughput_vs_bare_asgi:.2f}x)"
    )


def goal_lines(table: dict[tuple[str, int], Measurement], sizes: list[int]) -> list[str]:
    """Whether streaming met its goals: flat peak memory, and a small constant TTFB."""
    largest = table["streaming", sizes[-1]]
    ttfbs = [table["streaming", size].ttfb_ms for size in sizes]
    peak_met = largest.peak_rss_increase_mib <= STREAMING_PEAK_GOAL_MIB
    ttfb_met = max(ttfbs) < STREAMING_TTFB_GOAL_MS
    return [
        f"goal: streaming peak within +{STREAMING_PEAK_GOAL_MIB:.0f} MiB at {sizes[-1]} MiB:"
        f" {'met' if peak_met else 'MISSED'} (+{largest.peak_rss_increase_mib:.1f} MiB)",
        f"goal: streaming TTFB under {STREAMING_TTFB_GOAL_MS:.0f} ms at every size:"
        f" {'met' if ttfb_met else 'MISSED'} ({min(ttfbs):.1f} ms to {max(ttfbs):.1f} ms)",
    ]


def summary(measurements: list[Measurement], command: str) -> list[str]:
    """The lines a run prints: one ratio line per size, the goals, the reproducing command."""
    table = by_mode(measurements)
    sizes = sorted({m.size_mib for m in measurements})
    lines = [ratio_line(table, size) for size in sizes]
    return [*lines, *goal_lines(table, sizes), f"reproduce: {command}"]


def table_lines(measurements: list[Measurement]) -> list[str]:
    """Every measurement as a row."""
    header = f"{'size':>8}  {'mode':<15}{'peak RSS growth':>16}{'TTFB':>11}{'throughput':>14}"
    rows = [header + f"{'vs bare ASGI':>14}"]
    for m in measurements:
        rows.append(
            f"{m.size_mib:>4} MiB  {m.mode:<15}{m.peak_rss_increase_mib:>12.1f} MiB"
            f"{m.ttfb_ms:>8.1f} ms{m.throughput_mib_s:>8.0f} MiB/s"
            f"{m.throughput_vs_bare_asgi:>13.2f}x"
        )
    return rows


def run(sizes: list[int], repeats: int) -> list[Measurement]:
    """Measure every mode at every size, each in its own server process."""
    measurements = []
    for size in sizes:
        print(f"measuring {', '.join(MODES)} at {size} MiB", file=sys.stderr, flush=True)
        measurements += measure_size(size, repeats)
    return measurements


def write_results(path: Path, measurements: list[Measurement], command: str, repeats: int) -> None:
    """Save the run for the notebook's plots."""
    document = {
        "command": command,
        "chunk_size_bytes": CHUNK_SIZE,
        "min_requests": repeats,
        "machine": machine(),
        "measurements": [asdict(m) for m in measurements],
        "summary": summary(measurements, command),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: how far to go, how often to repeat, where to write."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streaming_memory")
    parser.add_argument("--max-mb", type=int, default=SIZES_MIB[-1], help="largest size, MiB")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="fewest requests per server")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file to write")
    args = parser.parse_args(argv)
    if not Path(PROC_STATUS).exists():
        parser.error(f"reading peak memory needs Linux's {PROC_STATUS}")
    if args.max_mb < SIZES_MIB[0] or args.repeats < 1:
        parser.error(f"--max-mb must be at least {SIZES_MIB[0]} and --repeats at least 1")
    return args


def reproducing_command(args: argparse.Namespace) -> str:
    """The command that measures the same sizes the same way (wherever it writes)."""
    options = []
    if args.max_mb != SIZES_MIB[-1]:
        options += ["--max-mb", str(args.max_mb)]
    if args.repeats != REPEATS:
        options += ["--repeats", str(args.repeats)]
    return shlex.join([*shlex.split(COMMAND), *options])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the figures and write them as JSON."""
    args = parse_args(argv)
    sizes = [size for size in SIZES_MIB if size <= args.max_mb]
    command = reproducing_command(args)
    measurements = run(sizes, args.repeats)
    print("\n".join([*table_lines(measurements), "", *summary(measurements, command)]))
    write_results(args.output, measurements, command, args.repeats)
    print(f"wrote {relative_to_root(args.output)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
