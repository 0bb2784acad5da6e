"""What challenge exercise 6's check costs: an export of 200 MiB or more, read and compared whole.

Grades, in the real sandbox and in turns, the reference solution (a streamed
export) and a corpus answer that joins the whole export before answering, and
reports per grading:

- its wall time, against the exercise's budget (three default timeouts);
- the grader's own CPU time and peak resident memory: it compares the body as
  it arrives, so neither should grow with the export;
- the sandbox's memory growth the check measured, beside its limit.

Run from the repo root:

    .venv/bin/python -m benchmarks.export_check             # 5 gradings of each
    .venv/bin/python -m benchmarks.export_check --quick     # 2 of each
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from pathlib import Path

from benchmarks import timing
from grader.exercises import exercise
from grader.exercises.ex6_stream_csv_export import MEMORY_LIMIT
from grader.runner import grade_submission
from grader.sandbox import Limits
from grader.settings import EXERCISE_BUDGET, TIMEOUT

MODULE = "benchmarks.export_check"
MiB = 1 << 20
DEFAULT_REPEAT = 5
QUICK_REPEAT = 2
GRADER_CPU_GOAL = 2.0  # seconds of the grader's CPU per grading
GRADER_MEMORY_GOAL = 100.0  # MiB the grader's process may reach, whatever the export's size
SUBMISSIONS = {
    "streamed": timing.REPO_ROOT / "solutions",
    "joined first": timing.REPO_ROOT / "tests" / "corpus" / "wrong" / "ex6_list_then_join",
}
GROWTH = re.compile(r"([\d,.]+) MiB above")


def grade_once(folder: Path) -> dict[str, float]:
    """Grade exercise 6 of ``folder``; its wall time, the grader's CPU, the measured growth."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = grade_submission(folder, Limits(), exercises=(exercise("ex6"),)).exercise("ex6")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    memory = next(check for check in result.checks if check.name == "memory")
    found = GROWTH.search(memory.message)
    return {
        "wall": wall,
        "grader_cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
        "growth_mib": float(found.group(1).replace(",", "")) if found else float("nan"),
        "passed": float(result.passed),
    }


def summary(found: list[dict[str, float]]) -> dict[str, float]:
    """The medians of some gradings' figures, and how many of them passed."""
    medians = {key: timing.median([run[key] for run in found]) for key in found[0]}
    return {**medians, "passed": sum(run["passed"] for run in found)}


def main(argv: list[str] | None = None) -> int:
    """Measure, print the figures and goals, save them to benchmarks/results."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=timing.positive_int, default=DEFAULT_REPEAT)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_REPEAT} gradings of each")
    args = parser.parse_args(argv)
    repeat = QUICK_REPEAT if args.quick else args.repeat
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SUBMISSIONS}
    for round_number in range(repeat):
        for name, folder in SUBMISSIONS.items():
            timing.status(f"grading {name} ({round_number + 1}/{repeat})")
            runs[name].append(grade_once(folder))
    figures = {name: summary(found) for name, found in runs.items()}
    for name, found in figures.items():
        print(
            f"{name}: {found['wall']:.1f} s wall (median of {repeat}), grader CPU "
            f"{found['grader_cpu']:.2f} s, sandbox growth {found['growth_mib']:.1f} MiB "
            f"(limit {MEMORY_LIMIT // MiB} MiB), passed {found['passed']:g}/{repeat}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    streamed = figures["streamed"]
    budget = EXERCISE_BUDGET * TIMEOUT.default
    print(timing.goal_line("streamed grading wall time", streamed["wall"], budget, " s"))
    print(timing.goal_line("grader CPU per grading", streamed["grader_cpu"], GRADER_CPU_GOAL, " s"))
    print(timing.goal_line("grader peak memory", peak, GRADER_MEMORY_GOAL, " MiB"))
    command = timing.reproduce_line(MODULE, sys.argv[1:] if argv is None else argv)
    path = timing.save_results("export_check", command, {**figures, "grader_peak_mib": peak})
    print(f"saved {timing.relative_to_root(path)}; reproduce with: {command}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
