"""How long a student waits for the notebook's check of a passing exercise.

A live Jupyter kernel (jupyter_client, the kernel JupyterLab runs) sits in a copy
of the reference solutions and executes the check cell ``check("ex1")`` as a
student does: the time from sending the cell until the kernel is idle again
covers grading in the sandboxed grader process, reading its result, counting
the failures and rendering the HTML and text the front end receives (the chart
included). Side by side, in turns, the floor: ``python -c "import fastapi"``, the
least any Python tool that touches FastAPI costs.

Run from the repo root:

    .venv/bin/python -m benchmarks.check_latency              # 10 checks of each exercise
    .venv/bin/python -m benchmarks.check_latency --repeat 3   # a quick look

It prints the medians and writes them to benchmarks/results/check_latency.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

from benchmarks import timing
from grader.exercises import EXERCISE_IDS
from grader.hints import ENV_FILE
from tests.notebook_support import KERNEL_NAME, KERNEL_STARTUP_TIMEOUT_S

MODULE = "benchmarks.check_latency"
SOLUTIONS = timing.REPO_ROOT / "solutions"
FLOOR = [sys.executable, "-c", "import fastapi"]
CELL_TIMEOUT_S = 120
GOAL_SECONDS = 1.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--repeat",
        type=timing.positive_int,
        default=10,
        help="checks of each exercise, after one warm-up round (default: 10)",
    )
    parser.add_argument(
        "--exercise",
        action="append",
        choices=EXERCISE_IDS,
        help="time this exercise's check (repeatable; default: all three)",
    )
    return parser.parse_args(argv)


def cell_runner(client: Any, code: str) -> Callable[[], None]:
    """A call that executes ``code`` in the kernel and fails loudly if the cell failed."""

    def run() -> None:
        reply = client.execute_interactive(code, timeout=CELL_TIMEOUT_S, output_hook=_outputs)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"the cell {code!r} failed: {reply['content'].get('evalue')}")

    return run


def _outputs(message: dict[str, Any]) -> None:
    """Fail when the check displayed anything but a passing exercise."""
    if message["msg_type"] == "execute_result":
        shown = message["content"]["data"]
        if 'class="sse-title sse-pass"' not in shown.get("text/html", ""):
            raise RuntimeError(f"the check did not render a passing exercise: {shown}")


def measure(exercises: Sequence[str], repeat: int) -> dict[str, list[float]]:
    """Time each exercise's check cell and the floor, in turns."""
    floor = lambda: subprocess.run(FLOOR, check=True, capture_output=True)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="check-latency-") as tmp:
        work = Path(tmp) / "exercises"
        shutil.copytree(SOLUTIONS, work)
        # The kernel imports the grader of this checkout, whatever the environment has installed.
        path = os.pathsep.join(filter(None, (str(timing.REPO_ROOT), os.environ.get("PYTHONPATH"))))
        env = {**os.environ, "PYTHONPATH": path, ENV_FILE: str(Path(tmp) / "hints.json")}
        timing.status(f"starting a {KERNEL_NAME} kernel in a copy of the solutions")
        manager, client = start_new_kernel(
            kernel_name=KERNEL_NAME,
            startup_timeout=KERNEL_STARTUP_TIMEOUT_S,
            cwd=str(work),
            env=env,
        )
        try:
            cell_runner(client, "from grader.notebook import check")()
            variants = {ex: cell_runner(client, f'check("{ex}")') for ex in exercises}
            timing.status(f"timing {len(exercises)} checks and the floor, {repeat} rounds")
            return timing.alternate({**variants, "floor": floor}, repeat)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print and save the figures."""
    ns = parse_args(argv)
    exercises = ns.exercise or list(EXERCISE_IDS)
    times = measure(exercises, ns.repeat)
    command = timing.reproduce_line(MODULE, list(argv if argv is not None else sys.argv[1:]))
    print(f"check() of a passing exercise from a live kernel, against {' '.join(FLOOR[1:])!r}:")
    for ex in exercises:
        print(f"  {timing.ratio_line(f'check({ex!r})', times[ex], times['floor'])}")
        print(f"  {timing.goal_line(ex, timing.median(times[ex]), GOAL_SECONDS, ' s')}")
    print(f"reproduce: {command}")
    figures = {
        "settings": {"repeat": ns.repeat, "exercises": exercises},
        "median_seconds": {name: timing.median(t) for name, t in times.items()},
        "runs_seconds": times,
    }
    path = timing.save_results("check_latency", command, figures)
    print(f"saved: {timing.relative_to_root(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
