"""How fast the grader is: a cold single submission, a class in a batch, and the notebook way.

Measured in one run, side by side:

(a) cold start: `python -m grader solutions` against the floor `python -c "import fastapi"`,
    run after one another in turns, medians;
(b) a batch of generated submissions (copies of grader/samples/*: ada is right, the others
    make typical mistakes) graded with full isolation by
    `python -m grader --submissions DIR --format json --jobs N`;
(c) the same class graded the way nbgrader and otter-grader do it: one notebook per
    submission, executed with nbclient in a fresh kernel, importing that submission's
    three modules and checking them with TestClient (benchmarks/testclient_checks.py).
    A handful of submissions is executed and the time extrapolated per submission;
(d) the cost of the kernel-side limits per sandbox (its cgroup, IPC and mount
    namespaces, tmpfs home and /proc), skeleton sandboxes with and without them in
    turns (benchmarks/sandbox_limits.py, as root), and the grader's peak memory: the
    largest resident set of any of its processes (main, workers, sandboxes) in one batch.

Run from the repo root:

    .venv/bin/python -m benchmarks.grader_speed            # 200 submissions, 6 notebooks
    .venv/bin/python -m benchmarks.grader_speed --quick    # 20 submissions, 2 notebooks

It prints the figures and writes them to benchmarks/results/grader_speed.json.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from benchmarks import sandbox_limits, timing
from grader.cli import DEFAULT_JOBS
from tests.notebook_support import KERNEL_CONFIG, KERNEL_NAME, KERNEL_STARTUP_TIMEOUT_S

MODULE = "benchmarks.grader_speed"
SAMPLES = timing.REPO_ROOT / "grader" / "samples"
STUDENTS = ("ada", "ben", "chloe", "dev", "emma")
RIGHT_STUDENT = "ada"  # the only sample that is right throughout
GRADER = ["-m", "grader"]
FLOOR = ["-c", "import fastapi"]
GRADER_EXIT_CODES = (0, 1)  # every exercise passed / some failed
CELL_TIMEOUT_S = 120
EXERCISE_COUNT = 3

GOAL_COLD_RATIO = 1.5
GOAL_BATCH_SECONDS = 10.0
GOAL_BATCH_SIZE = 200
GOAL_SPEEDUP = 20.0


@dataclass(frozen=True)
class Settings:
    """What one run measures."""

    submissions: int = 200
    students: tuple[str, ...] = STUDENTS
    jobs: tuple[int, ...] = (DEFAULT_JOBS,)
    cold_repeat: int = 10
    batch_repeat: int = 3
    notebooks: int = 6
    limit_sandboxes: int = 200


@dataclass(frozen=True)
class Batch:
    """Wall-clock and CPU seconds (grader, workers and sandboxes) of each batch run, per --jobs."""

    wall: dict[int, list[float]]
    cpu: dict[int, list[float]]
    busy: dict[int, list[float]]


QUICK = Settings(submissions=20, cold_repeat=3, batch_repeat=1, notebooks=2, limit_sandboxes=40)
# Runs a command and prints the largest resident set, in KiB, of any process it waited for.
PEAK_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=False); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


# --- the class -------------------------------------------------------------------------------


def make_class(folder: Path, count: int, students: Sequence[str]) -> list[Path]:
    """Copy the sample students round-robin into ``count`` submission folders."""
    made = []
    for index in range(count):
        student = students[index % len(students)]
        target = folder / f"{index:03d}-{student}"
        shutil.copytree(SAMPLES / student, target)
        made.append(target)
    return made


def student_of(submission: Path | str) -> str:
    """The sample student a generated submission was copied from."""
    return Path(submission).name.split("-", 1)[1]


# --- running commands ------------------------------------------------------------------------


def children_cpu() -> float:
    """User + system CPU seconds of every finished child process (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def installed_like_environment() -> dict[str, str]:
    """This environment, but letting Python cache bytecode as it does for an installed package.

    pip compiles an installed package's modules; a checkout compiles them on first
    import and keeps them only where PYTHONDONTWRITEBYTECODE is unset. FastAPI, the
    floor, comes precompiled from pip, so the grader is timed the same way: the
    warm-up round of each measurement writes its bytecode.
    """
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (every core, /proc/stat).

    Besides the grader's processes this counts kernel work done on their behalf
    (tearing down a namespace, freeing memory) that no process is charged for,
    and whatever else runs on the machine meanwhile.
    """
    fields = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def run_python(args: Sequence[str], allowed: Sequence[int] = (0,)) -> float:
    """Run this interpreter with ``args`` from the repo root, output discarded; its CPU seconds."""
    cpu_before = children_cpu()
    done = subprocess.run(
        [sys.executable, *args],
        cwd=timing.REPO_ROOT,
        env=installed_like_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if done.returncode not in allowed:
        stderr = done.stderr.decode(errors="replace").strip()[-2000:]
        sys.exit(f"python {' '.join(args)} exited {done.returncode}:\n{stderr}")
    return children_cpu() - cpu_before


def batch_args(folder: Path, jobs: int, report: Path) -> list[str]:
    """The grader command line for a whole class."""
    return [
        *GRADER,
        *("--submissions", str(folder), "--format", "json", "--jobs", str(jobs)),
        *("--output", str(report)),
    ]


def read_report(report: Path) -> list[dict]:
    """The submissions of the grader's JSON report."""
    return json.loads(report.read_text(encoding="utf-8"))["submissions"]


def failed_checks(submission: dict) -> list[str]:
    """'ex3 streams: message' for each check a submission failed."""
    return [
        f"{e['id']} {c['name']}: {c['message']}"
        for e in submission["exercises"]
        for c in e["checks"]
        if not c["passed"]
    ]


# --- one notebook per submission -------------------------------------------------------------

NOTEBOOK_CELL = """\
import json
import sys
from pathlib import Path

sys.path.insert(0, {root!r})
from benchmarks.testclient_checks import check_submission

print(json.dumps(check_submission(Path.cwd())))
"""


def run_notebook(submission: Path) -> dict[str, bool]:
    """Execute a one-cell notebook in a fresh kernel inside the submission folder; its verdicts."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(NOTEBOOK_CELL.format(root=str(timing.REPO_ROOT))))
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=KERNEL_STARTUP_TIMEOUT_S,
        kernel_name=KERNEL_NAME,
        config=KERNEL_CONFIG,  # the kit's kernel settings: encrypted where ZeroMQ can
        resources={"metadata": {"path": str(submission)}},
    )
    client.execute()
    text = "".join(
        out.get("text", "") for out in nb.cells[0].outputs if out.output_type == "stream"
    )
    return json.loads(text.strip().splitlines()[-1])


# --- measuring -------------------------------------------------------------------------------


def measure_cold(repeat: int) -> dict[str, list[float]]:
    """(a) grading the solutions from a cold interpreter, against importing FastAPI, in turns."""
    return timing.alternate(
        {
            "grader": lambda: run_python([*GRADER, "solutions"]),
            "floor": lambda: run_python(FLOOR),
        },
        repeat,
    )


def report_path(reports: Path, jobs: int, run: int) -> Path:
    """Where the batch run number ``run`` at ``--jobs jobs`` writes its JSON report."""
    return reports / f"jobs-{jobs}-run-{run}.json"


def measure_batch(folder: Path, settings: Settings, reports: Path) -> Batch:
    """(b) the whole class graded in isolation, once per --jobs value, in turns."""
    cpu: dict[int, list[float]] = {jobs: [] for jobs in settings.jobs}
    busy: dict[int, list[float]] = {jobs: [] for jobs in settings.jobs}

    def grade_class(jobs: int) -> None:
        report = report_path(reports, jobs, len(cpu[jobs]))
        busy_before = machine_busy()
        cpu[jobs].append(run_python(batch_args(folder, jobs, report), GRADER_EXIT_CODES))
        busy[jobs].append(machine_busy() - busy_before)

    actions = {str(jobs): functools.partial(grade_class, jobs) for jobs in settings.jobs}
    wall = timing.alternate(actions, settings.batch_repeat, warmup=0)
    return Batch({int(jobs): times for jobs, times in wall.items()}, cpu, busy)


def measure_peak_memory(folder: Path, jobs: int, reports: Path) -> float:
    """(d) MiB: the largest resident set of any grader process while grading the class once."""
    command = [sys.executable, *batch_args(folder, jobs, reports / "peak-memory.json")]
    done = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, *command],
        cwd=timing.REPO_ROOT,
        env=installed_like_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1]) / 1024


def measure_notebooks(submissions: Sequence[Path]) -> tuple[list[float], dict[str, dict]]:
    """(c) one notebook per submission; a first one (not counted) warms the disk cache."""
    run_notebook(submissions[0])
    times, verdicts = [], {}
    for submission in submissions:
        seconds = timing.seconds(lambda s=submission: verdicts.update({s.name: run_notebook(s)}))
        times.append(seconds)
    return times, verdicts


# --- reporting -------------------------------------------------------------------------------


def report_cold(cold: dict[str, list[float]]) -> dict[str, object]:
    """Print the cold-start line and goal; return its figures."""
    ratio = timing.median(cold["grader"]) / timing.median(cold["floor"])
    print(
        timing.ratio_line(
            'cold start, `python -m grader solutions` vs `python -c "import fastapi"`',
            cold["grader"],
            cold["floor"],
        )
    )
    print("  " + timing.goal_line("cold-start ratio", ratio, GOAL_COLD_RATIO, "x"))
    return {"seconds": cold, "ratio": ratio, "goal_ratio": GOAL_COLD_RATIO}


def check_verdicts(reports: list[Path]) -> list[int]:
    """How many submissions passed in each run; name every right answer the grader failed."""
    graded = [read_report(report) for report in reports]
    for submission in itertools.chain.from_iterable(graded):
        right = student_of(submission["submission"]) == RIGHT_STUDENT
        if right and submission["score"] != submission["max_score"]:
            name = Path(submission["submission"]).name
            print(f"  ! right answer failed, {name}: {'; '.join(failed_checks(submission))}")
    return [sum(s["score"] == s["max_score"] for s in run) for run in graded]


def report_batch(batch: Batch, size: int, reports: Path, expected: int) -> dict[str, object]:
    """Print wall and CPU time per --jobs value, the goal and the verdict counts; the figures."""
    figures: dict[str, object] = {}
    for jobs, times in batch.wall.items():
        wall, cpu = timing.median(times), timing.median(batch.cpu[jobs])
        busy = timing.median(batch.busy[jobs])
        default = " (the default)" if jobs == DEFAULT_JOBS else ""
        print(
            f"batch of {size}, --jobs {jobs}{default}: {wall:.2f} s wall (median of {len(times)}), "
            f"{timing.ms(wall / size)} per submission; CPU per submission "
            f"{timing.ms(cpu / size)} charged to the grader's processes, "
            f"{timing.ms(busy / size)} machine-wide"
        )
        passed = check_verdicts([report_path(reports, jobs, r) for r in range(len(times))])
        print(f"  passed every exercise: {'/'.join(map(str, passed))} (expected {expected})")
        scaled = "" if size == GOAL_BATCH_SIZE else " (scaled)"
        name = f"{GOAL_BATCH_SIZE} submissions{scaled}"
        at_goal_size = wall * GOAL_BATCH_SIZE / size
        print("  " + timing.goal_line(name, at_goal_size, GOAL_BATCH_SECONDS, " s"))
        figures[str(jobs)] = {
            "wall_s": times,
            "cpu_s": batch.cpu[jobs],
            "machine_busy_s": batch.busy[jobs],
            "median_wall_s": wall,
            "passed_all": passed,
            "expected_passed_all": expected,
        }
    return figures


def report_comparison(
    batch_per_submission: list[float],
    notebooks: list[float],
    verdicts: dict[str, dict[str, bool]],
    graded: dict[str, dict],
) -> dict[str, object]:
    """Print batch vs one-notebook-per-submission, per submission, and the speed-up."""
    print(
        f"one notebook per submission: {timing.median(notebooks):.2f} s each "
        f"(median of {len(notebooks)} notebooks, each in a fresh kernel)"
    )
    for name, passed in verdicts.items():
        score = graded[name]["score"]
        print(
            f"  {name}: TestClient-only checks pass {sum(passed.values())}/{EXERCISE_COUNT}, "
            f"the grader {score:g}/{EXERCISE_COUNT}"
        )
    print(
        timing.ratio_line(
            "grader batch vs one-notebook-per-submission, per submission",
            batch_per_submission,
            notebooks,
        )
    )
    speedup = timing.median(notebooks) / timing.median(batch_per_submission)
    print(f"  speed-up: {speedup:.1f}x faster")
    print("  " + timing.goal_line("speed-up", speedup, GOAL_SPEEDUP, "x", at_most=False))
    return {"notebook_seconds": notebooks, "speedup": speedup, "goal_speedup": GOAL_SPEEDUP}


# --- command line ----------------------------------------------------------------------------


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list of sample students."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(set(names) - set(STUDENTS))
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(STUDENTS)}")
    return names


def _counts(text: str) -> tuple[int, ...]:
    """A comma-separated list of positive integers."""
    return tuple(timing.positive_int(part) for part in text.split(","))


def build_parser() -> argparse.ArgumentParser:
    """Options: sizes, repetitions, the class mix and the --jobs values to try."""
    full = Settings()
    parser = argparse.ArgumentParser(
        prog=f"python -m {MODULE}",
        description=__doc__.split("\n\n")[0],
        epilog="Run from the repo root; prints the figures and the command that reproduces them.",
    )
    add = parser.add_argument
    add(
        "--quick",
        action="store_true",
        help="a quick run: 20 submissions, 3 cold starts per side, 1 batch run, 2 notebooks",
    )
    add("--submissions", type=timing.positive_int, help=f"class size (default {full.submissions})")
    add(
        "--students",
        type=_names,
        help=f"sample students copied round-robin (default {','.join(full.students)}; "
        f"{RIGHT_STUDENT} alone makes a class of right answers)",
    )
    add("--jobs", type=_counts, help=f"--jobs values to try, e.g. 4,8 (default {DEFAULT_JOBS})")
    add(
        "--repeat",
        type=timing.positive_int,
        help=f"cold-start runs per side (default {full.cold_repeat})",
    )
    add(
        "--batch-repeat", type=timing.positive_int, help=f"batch runs (default {full.batch_repeat})"
    )
    add(
        "--notebooks",
        type=timing.positive_int,
        help=f"notebooks executed (default {full.notebooks})",
    )
    add(
        "--limit-sandboxes",
        type=timing.positive_int,
        help="skeleton sandboxes a side for the cost of the kernel-side limits "
        f"(default {full.limit_sandboxes})",
    )
    add("--no-save", action="store_true", help="do not write benchmarks/results/grader_speed.json")
    return parser


def settings_from(ns: argparse.Namespace) -> Settings:
    """The quick or full settings, with any option given on the command line on top."""
    base = QUICK if ns.quick else Settings()
    chosen = {
        "submissions": ns.submissions,
        "students": ns.students,
        "jobs": ns.jobs,
        "cold_repeat": ns.repeat,
        "batch_repeat": ns.batch_repeat,
        "notebooks": ns.notebooks,
        "limit_sandboxes": ns.limit_sandboxes,
    }
    return replace(base, **{name: value for name, value in chosen.items() if value is not None})


def main(argv: list[str] | None = None) -> int:
    """Measure (a), (b) and (c); print the figures, the goals and the command."""
    argv = sys.argv[1:] if argv is None else argv
    ns = build_parser().parse_args(argv)
    settings = settings_from(ns)
    command = timing.reproduce_line(MODULE, argv)
    with tempfile.TemporaryDirectory(prefix="grader-speed-") as tmp:
        folder, reports = Path(tmp) / "class", Path(tmp) / "reports"
        reports.mkdir()
        submissions = make_class(folder, settings.submissions, settings.students)
        expected = sum(student_of(s) == RIGHT_STUDENT for s in submissions)
        timing.status(f"(a) cold start, {settings.cold_repeat} runs per side ...")
        cold = measure_cold(settings.cold_repeat)
        timing.status(f"(b) batch of {settings.submissions}, runs: {settings.batch_repeat} ...")
        batch = measure_batch(folder, settings, reports)
        timing.status(f"(c) {settings.notebooks} notebooks, one per submission ...")
        notebook_times, verdicts = measure_notebooks(submissions[: settings.notebooks])
        timing.status(f"(d) limits: {settings.limit_sandboxes} skeleton sandboxes a side ...")
        limits = sandbox_limits.measure(settings.limit_sandboxes)
        peak = measure_peak_memory(folder, settings.jobs[0], reports)
        print(f"{settings.submissions} submissions copied from {', '.join(settings.students)}")
        figures = {"settings": asdict(settings), "cold": report_cold(cold)}
        figures["batch"] = report_batch(batch, settings.submissions, reports, expected)
        figures["limits"] = sandbox_limits.report(limits)
        print(
            f"grader peak memory, --jobs {settings.jobs[0]}: {peak:.1f} MiB, the largest "
            "resident set of any one process (main, worker or sandbox)"
        )
        figures["peak_memory_mib"] = peak
        best = min(batch.wall, key=lambda jobs: timing.median(batch.wall[jobs]))
        graded = {Path(s["submission"]).name: s for s in read_report(report_path(reports, best, 0))}
    per_submission = [t / settings.submissions for t in batch.wall[best]]
    print(f"comparing the batch at --jobs {best}:")
    figures["notebooks"] = report_comparison(per_submission, notebook_times, verdicts, graded)
    figures["notebooks"]["compared_jobs"] = best
    print(f"reproduce: {command}")
    if not ns.no_save:
        path = timing.save_results("grader_speed", command, figures)
        print(f"figures written to {timing.relative_to_root(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
