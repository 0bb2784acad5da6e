"""How long the notebook tests take, against the floor of starting one kernel and running nothing.

Both sides run through the tests' own executor (tests/notebook_support.py), side by side in
one run, a few rounds each; the figures are medians.

    .venv/bin/python benchmarks/notebooks.py
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import nbformat

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ".venv/bin/python benchmarks/notebooks.py"
DEFAULT_ROUNDS = 3


def notebook_support() -> ModuleType:
    """The tests' notebook executor, importable when this file runs as a script."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("tests.notebook_support")


def seconds(action: Callable[[], object]) -> float:
    """Wall-clock time of one call."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def empty_notebook(folder: Path, support: ModuleType) -> Path:
    """A notebook with no cells, saved with the lessons' kernelspec."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(support.KERNELSPEC)
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    return path


def measure(rounds: int) -> tuple[list[float], dict[str, list[float]]]:
    """Per round: the bare kernel start, then each lesson notebook, interleaved."""
    support = notebook_support()
    lessons = support.notebook_paths()
    if not lessons:
        raise SystemExit("no lesson notebooks under lessons/")
    floor: list[float] = []
    per_notebook: dict[str, list[float]] = {path.name: [] for path in lessons}
    with tempfile.TemporaryDirectory() as folder:
        empty = empty_notebook(Path(folder), support)
        for _ in range(rounds):
            floor.append(seconds(lambda: support.execute_notebook(empty)))
            for path in lessons:
                per_notebook[path.name].append(seconds(lambda p=path: support.execute_notebook(p)))
    return floor, per_notebook


def main(argv: list[str] | None = None) -> int:
    """Measure, then print the medians, their ratios and the command that reproduces them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="repetitions")
    rounds = parser.parse_args(argv).rounds
    floor, per_notebook = measure(rounds)
    bare = statistics.median(floor)
    totals = [sum(times) for times in zip(*per_notebook.values(), strict=True)]
    print(f"medians of {rounds} rounds")
    print(f"  bare kernel start: {bare:.2f} s")
    for name, times in per_notebook.items():
        median = statistics.median(times)
        print(f"  {name}: {median:.2f} s ({median / bare:.1f}x)")
    print(f"  all {len(per_notebook)} lesson notebooks: {statistics.median(totals):.2f} s")
    print(f"lesson notebooks vs bare kernel start: {statistics.median(totals) / bare:.1f}x")
    print(f"reproduce: {COMMAND}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
