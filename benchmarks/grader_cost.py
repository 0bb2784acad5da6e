"""What the grader's streaming-aware checks cost per submission, against TestClient-only checks.

Both sides grade the reference solutions in this process, one submission (three
exercises) per run, taking turns run by run; the figures are medians.

- baseline: benchmarks/testclient_checks.py, what a typical autograder does: import
  each module, call its endpoint once with TestClient, check status, Content-Type
  and the final body (the parsed events for SSE);
- measured: grader.runner.grade_folder_in_process, the grader's full checks: timed
  chunks, tokens gated on delivery through the feed, the event-loop watch and the
  disconnect run.

Run from the repo root:

    .venv/bin/python -m benchmarks.grader_cost              # 30 repetitions
    .venv/bin/python -m benchmarks.grader_cost --quick      # 5 repetitions
    .venv/bin/python -m benchmarks.grader_cost --profile    # also where the grader's time goes
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from benchmarks import timing
from benchmarks.testclient_checks import check_submission
from grader.results import SubmissionResult
from grader.runner import grade_folder_in_process
from grader.settings import DISCONNECT_GRACE

MODULE = "benchmarks.grader_cost"
SOLUTIONS = timing.REPO_ROOT / "solutions"
DEFAULT_REPEAT = 30
QUICK_REPEAT = 5
WARMUP = 2
PROFILE_RUNS = 5
GOAL_RATIO = 1.5
MEASURED, BASELINE = "streaming-aware checks", "TestClient-only checks"


def grade_with_grader(folder: Path) -> SubmissionResult:
    """The grader's own checks, in-process; they must pass on right answers."""
    result = grade_folder_in_process(folder)
    if not result.passed:
        failed = [f"{e.id}: {c.name}" for e in result.exercises for c in e.checks if not c.passed]
        sys.exit(f"the grader failed a right answer in {folder}: {', '.join(failed)}")
    return result


def grade_with_testclient(folder: Path) -> dict[str, bool]:
    """The baseline checks; they must pass on right answers."""
    passed = check_submission(folder)
    if not all(passed.values()):
        sys.exit(f"the baseline failed a right answer in {folder}: {passed}")
    return passed


def exercise_medians(folder: Path, runs: int) -> dict[str, float]:
    """The grader's own per-exercise durations (checks only, import excluded), medians."""
    durations: dict[str, list[float]] = {}
    for _ in range(runs):
        for ex in grade_with_grader(folder).exercises:
            durations.setdefault(ex.id, []).append(ex.duration)
    return {name: timing.median(values) for name, values in durations.items()}


def build_parser() -> argparse.ArgumentParser:
    """Options: how many repetitions, whether to profile, whether to save the figures."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {MODULE}",
        description=__doc__.splitlines()[0],
        epilog="Run from the repo root; prints the ratio and the command that reproduces it.",
    )
    parser.add_argument(
        "--repeat",
        type=timing.positive_int,
        default=DEFAULT_REPEAT,
        help=f"runs per side (default {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"a quick run: {QUICK_REPEAT} runs per side"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of the grader's side"
    )
    parser.add_argument(
        "--no-save", action="store_true", help="do not write benchmarks/results/grader_cost.json"
    )
    return parser


def measure(repeat: int) -> dict[str, list[float]]:
    """Both sides on the reference solutions, taking turns run by run."""
    return timing.alternate(
        {
            MEASURED: lambda: grade_with_grader(SOLUTIONS),
            BASELINE: lambda: grade_with_testclient(SOLUTIONS),
        },
        repeat,
        warmup=WARMUP,
    )


def report(times: dict[str, list[float]], repeat: int) -> dict[str, object]:
    """Print the ratio, the goal and what the grader's time went to; return the figures."""
    ratio = timing.median(times[MEASURED]) / timing.median(times[BASELINE])
    print(
        f"grading {timing.relative_to_root(SOLUTIONS)}/ in-process, {repeat} runs per side "
        f"taking turns, after {WARMUP} warm-up rounds"
    )
    print(timing.ratio_line(f"{MEASURED} vs {BASELINE}, per submission", *times.values()))
    print(timing.goal_line("ratio", ratio, GOAL_RATIO, "x"))
    waited = sum(t >= DISCONNECT_GRACE for t in times[MEASURED])
    print(
        f"grader runs that took the whole disconnect grace ({DISCONNECT_GRACE:g} s) or longer: "
        f"{waited} of {repeat}"
    )
    runs = min(repeat, PROFILE_RUNS)
    per_exercise = exercise_medians(SOLUTIONS, runs)
    spread = ", ".join(f"{name} {timing.ms(value)}" for name, value in per_exercise.items())
    print(f"grader's checks per exercise (median of {runs} more runs): {spread}")
    return {
        "repeat": repeat,
        "seconds": times,
        "ratio": ratio,
        "goal_ratio": GOAL_RATIO,
        "runs_over_disconnect_grace": waited,
        "grader_exercise_seconds": per_exercise,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure both sides alternately; print the ratio, the goal and the command."""
    argv = sys.argv[1:] if argv is None else argv
    ns = build_parser().parse_args(argv)
    repeat = QUICK_REPEAT if ns.quick else ns.repeat
    # TestClient cancels the app when a streamed response is closed early (the disconnect
    # run); asyncio then logs a harmless InvalidStateError traceback that would drown the report.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    figures = report(measure(repeat), repeat)
    command = timing.reproduce_line(MODULE, argv)
    print(f"reproduce: {command}")
    if not ns.no_save:
        path = timing.save_results("grader_cost", command, figures)
        print(f"figures written to {timing.relative_to_root(path)}")
    if ns.profile:
        print(f"\ncProfile of {PROFILE_RUNS} runs of the grader's checks (main thread):")
        print(timing.profile(lambda: [grade_with_grader(SOLUTIONS) for _ in range(PROFILE_RUNS)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
