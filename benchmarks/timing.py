"""Measuring side by side on a shared, noisy machine: alternating runs, medians, ratio lines."""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).with_name("results")
PYTHON = ".venv/bin/python"
PROFILE_LINES = 25


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def seconds(action: Callable[[], object]) -> float:
    """Wall-clock time of one call."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def alternate(
    variants: Mapping[str, Callable[[], object]], repeat: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Time every variant ``repeat`` times, taking turns run by run (A B A B ...).

    The first ``warmup`` rounds are run the same way and thrown away (imports, disk cache).
    """
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(warmup + repeat):
        for name, action in variants.items():
            elapsed = seconds(action)
            if round_number >= warmup:
                times[name].append(elapsed)
    return times


def median(times: Sequence[float]) -> float:
    """The median of some timings, in seconds."""
    return statistics.median(times)


def ms(value: float) -> str:
    """Seconds as milliseconds for a report line."""
    return f"{value * 1000:.1f} ms"


def ratio_line(what: str, measured: Sequence[float], baseline: Sequence[float]) -> str:
    """'WHAT: 1.30x (median of 30; 14.2 ms vs 10.9 ms)' from two lists of timings."""
    a, b = median(measured), median(baseline)
    counts = (
        f"median of {len(measured)}"
        if len(measured) == len(baseline)
        else f"medians of {len(measured)} and {len(baseline)}"
    )
    return f"{what}: {a / b:.2f}x ({counts}; {ms(a)} vs {ms(b)})"


def status(text: str) -> None:
    """Say on stderr what is being measured now (a full run takes minutes)."""
    print(text, file=sys.stderr, flush=True)


def goal_line(name: str, value: float, goal: float, unit: str, *, at_most: bool = True) -> str:
    """Whether a figure meets its goal, in one line."""
    met = value <= goal if at_most else value >= goal
    sign = "<=" if at_most else ">="
    return f"goal {name} {sign} {goal:g}{unit}: {value:.2f}{unit}, {'met' if met else 'MISSED'}"


def reproduce_line(module: str, argv: Sequence[str]) -> str:
    """The command, run from the repo root, that repeats this measurement."""
    return f"{PYTHON} -m {module} {shlex.join(argv)}".rstrip()


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def save_results(name: str, command: str, figures: Mapping[str, object]) -> Path:
    """Write the figures, the command and the machine to benchmarks/results/NAME.json."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    record = {"command": command, "machine": machine(), **figures}
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def profile(action: Callable[[], object], sort: str = "cumulative") -> str:
    """Run ``action`` under cProfile (this thread only) and return the top lines."""
    profiler = cProfile.Profile()
    profiler.runcall(action)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(PROFILE_LINES)
    return out.getvalue()


def relative_to_root(path: Path) -> str:
    """A path as printed in reports: relative to the repo root when inside it."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
