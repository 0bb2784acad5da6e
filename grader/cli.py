"""The command line: parse options, collect submissions, grade them, report.

    python -m grader [PATH ...] [--submissions DIR] [--format FORMAT] [--output FILE] ...

Exit status: 0 when every graded exercise passed, 1 when any failed, 2 for a
usage error or a report that cannot be written (one line on stderr), 130 when
interrupted. A batch (``--submissions``, several PATHs or ``--results-dir``) ends
with one summary line on stderr; grading one PATH prints only the report.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
from pathlib import Path
from typing import NoReturn

from grader import settings
from grader.batch import Job, run_batch
from grader.exercises import CHALLENGES, EXERCISES, ids, select
from grader.progress import ProgressBar
from grader.report import FORMATS, render, submission_names, write_gradescope_folders
from grader.results import SubmissionResult
from grader.sandbox import Limits, MiB, check_reachable, scratch_folder
from grader.watch import watch

PROG = "python -m grader"
DEFAULT_SUBMISSION = "exercises"
DEFAULT_JOBS = int(settings.JOBS.default)
EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DESCRIPTION = """\
Grade Lesson 3 (Streaming and Server-Sent Events) submissions.

{submission}
"""
SERVED = (
    "Each exercise is served by the submission's own FastAPI app in a sandboxed process "
    "(no network, memory/process/CPU/output limits, its own PID, IPC and mount namespaces, "
    "a private scratch space) and checked from the outside through HTTP: status, "
    "Content-Type, the body or the events a browser would see, and whether it really "
    "streams (one chunk per item, nothing held back, an event loop that is never blocked)."
)
EPILOG = """\
a batch (--submissions, several PATHs, or --results-dir) ends with one line on
stderr: how many submissions were graded or reused, how many got full marks,
how many the grader could not grade, and where the report went (--quiet: none).

saved results (--results-dir) are reused only while they match what would be
graded now: the submission's files, the grader's version and the options that
decide verdicts (--exercise, --challenges, --timeout, --memory, --scratch, --cpu,
--output-limit, --allow-network, --seed). Any other spelling of a folder's path
finds the same record.

exit status: 0 every exercise passed, 1 some exercise failed, 2 usage error or a
report that cannot be written, 130 interrupted (saved results are kept; run again
with the same --results-dir to continue).

examples:
  python -m grader solutions
  python -m grader --submissions grader/samples --format csv --output grades.csv
  python -m grader --submissions class/ --results-dir results/ --jobs 8
  python -m grader --submissions class/ --format gradescope --output gradescope/
  python -m grader --exercise ex3 my_work/
  python -m grader --challenges my_work/
"""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem and how to get help, then exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> Parser:
    """The parser for every option of the grader."""
    parser = Parser(
        prog=PROG,
        description=_description(),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"submission folders (default: {DEFAULT_SUBMISSION})",
    )
    add = parser.add_argument
    add(
        "--submissions",
        metavar="DIR",
        action="append",
        type=Path,
        default=[],
        help="a folder of submission folders: grade each subfolder (repeatable)",
    )
    add(
        "--exercise",
        metavar="ID",
        action="append",
        choices=ids(),
        help="grade only this exercise (repeatable; default: the lesson's, "
        f"{', '.join(ex.id for ex in EXERCISES)})",
    )
    add(
        "--challenges",
        action="store_true",
        help="grade the challenge exercises beyond the lesson too "
        f"({', '.join(ex.id for ex in CHALLENGES) or 'none installed'}); they are optional "
        "and not in the lesson's score unless asked for",
    )
    add(
        "--format",
        choices=FORMATS,
        default="text",
        help="report format: text (default), json, gradescope (Gradescope's results.json; "
        "for a batch, one per submission under --output DIR), junit, csv, markdown (for a CI "
        "job summary), prairielearn (PrairieLearn's results.json, one submission)",
    )
    add(
        "--output",
        metavar="FILE",
        type=Path,
        help="write the report here instead of stdout; with --format gradescope and a batch, "
        "a folder: each submission's results.json goes to FILE/<submission>/results.json",
    )
    add(
        "--results-dir",
        metavar="DIR",
        type=Path,
        help="save each submission's full result here as soon as it is known; a re-run "
        "reuses a saved result while the submission's modules, the grader and the options "
        "that decide verdicts are unchanged, and grades the rest",
    )
    add(
        "--regrade",
        action="store_true",
        help="grade every submission again, even those with a matching saved result "
        "in --results-dir (which are then replaced)",
    )
    add(
        "--jobs",
        "-j",
        metavar="N",
        type=_positive_int,
        default=DEFAULT_JOBS,
        help=settings.JOBS.describe(),
    )
    add(
        "--timeout",
        metavar="SECONDS",
        type=_positive_float,
        default=settings.TIMEOUT.default,
        help=settings.TIMEOUT.describe(),
    )
    add(
        "--memory",
        metavar="MIB",
        type=_positive_int,
        default=int(settings.MEMORY_MIB.default),
        help=settings.MEMORY_MIB.describe(),
    )
    add(
        "--scratch",
        metavar="MIB",
        type=_positive_int,
        default=int(settings.SCRATCH_MIB.default),
        help=settings.SCRATCH_MIB.describe(),
    )
    add(
        "--cpu",
        metavar="SECONDS",
        type=_positive_int,
        default=int(settings.CPU_SECONDS.default),
        help=settings.CPU_SECONDS.describe(),
    )
    add(
        "--output-limit",
        metavar="KIB",
        type=_positive_int,
        default=int(settings.OUTPUT_KIB.default),
        help=settings.OUTPUT_KIB.describe(),
    )
    add(
        "--allow-network",
        action="store_true",
        help="do not put submissions in a network namespace of their own",
    )
    add(
        "--seed",
        metavar="N",
        type=_seed,
        help="draw the inputs put in place of lines, messages, tokens and prompts from this "
        "seed, to reproduce a verdict (the seed of each result is in its instructor-only "
        "details; default: a fresh secret seed per submission)",
    )
    add(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: when stdout and stderr are terminals)",
    )
    add(
        "--color",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="colour the text report (default: when writing to a terminal)",
    )
    add(
        "--quiet",
        "-q",
        action="store_true",
        help="no summary line on stderr after a batch (errors are still reported)",
    )
    add(
        "--watch",
        action="store_true",
        help="keep running: grade PATH now, then again each exercise whose file is saved "
        "(one PATH, text report; Ctrl-C stops, exit status 130)",
    )
    add("--version", action="version", version=_version())
    return parser


def _description() -> str:
    """What the grader does, naming the exercises it knows."""
    lesson = ", ".join(ex.filename for ex in EXERCISES)
    extra = ", ".join(ex.filename for ex in CHALLENGES)
    submission = f"A submission is a folder holding the lesson's exercise modules ({lesson})"
    submission += f", and for --challenges {extra}." if extra else "."
    return DESCRIPTION.format(submission=textwrap.fill(f"{submission} {SERVED}", 79))


def _version() -> str:
    """The grader's version string."""
    from grader import __version__

    return f"%(prog)s {__version__}"


def _seed(text: str) -> int:
    """A seed as the details show it: a whole number from 0 up."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _positive_float(text: str) -> float:
    """A finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def collect_jobs(parser: Parser, ns: argparse.Namespace) -> list[tuple[str, Path]]:
    """The submissions to grade, as (label, folder), or a usage error."""
    jobs = []
    for container in ns.submissions:
        if not container.is_dir():
            parser.error(f"no such folder of submissions: {container}")
        subfolders = sorted(
            p for p in container.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
        )
        if not subfolders:
            parser.error(f"{container} holds no submission folders")
        jobs += [(str(p), p) for p in subfolders]
    paths = ns.paths or ([] if ns.submissions else [DEFAULT_SUBMISSION])
    for text in paths:
        path = Path(text)
        if not path.is_dir():
            parser.error(f"no such submission folder: {text}")
        jobs.append((text, path))
    return jobs


def is_batch(ns: argparse.Namespace, jobs: list[Job]) -> bool:
    """True for a class rather than one student's folder: a folder of them, or several."""
    return bool(ns.submissions) or len(jobs) > 1


def check_destinations(parser: Parser, ns: argparse.Namespace, batch: bool) -> None:
    """Refuse before grading anything an --output or --results-dir that cannot be used."""
    if ns.results_dir is not None and ns.results_dir.exists() and not ns.results_dir.is_dir():
        parser.error(f"--results-dir {ns.results_dir} is a file, not a folder")
    if ns.format == "prairielearn" and batch:
        parser.error("--format prairielearn reports one submission: PrairieLearn grades each alone")
    if ns.format == "gradescope" and batch:
        if ns.output is None:
            parser.error(
                "--format gradescope writes one results.json per submission for a batch: "
                "give the folder to write them in with --output DIR"
            )
        if ns.output.exists() and not ns.output.is_dir():
            parser.error(f"--output {ns.output} is a file; --format gradescope needs a folder")
    elif ns.output is not None and ns.output.is_dir():
        parser.error(f"--output {ns.output} is a folder; give the report's file name")


def prepare_folders(parser: Parser, ns: argparse.Namespace, batch: bool) -> None:
    """Create the folders the results and the report go to, or refuse them before grading."""
    folders = [ns.results_dir]
    if ns.output is not None:
        folders.append(ns.output if ns.format == "gradescope" and batch else ns.output.parent)
    for folder in filter(None, folders):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parser.error(f"cannot create the folder {folder}: {exc.strerror or exc}")
        if not os.access(folder, os.W_OK | os.X_OK):
            parser.error(f"cannot write in the folder {folder}")


def limits_from(ns: argparse.Namespace) -> Limits:
    """The sandbox limits the options ask for."""
    return Limits(
        timeout=ns.timeout,
        memory=ns.memory * MiB,
        cpu_seconds=ns.cpu,
        output=ns.output_limit * 1024,
        scratch=ns.scratch * MiB,
        isolate_network=not ns.allow_network,
        seed=ns.seed,
    )


def write_report(text: str, output: Path | None) -> None:
    """Write the report to the output file, or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")


def deliver(
    ns: argparse.Namespace, jobs: list[Job], results: list[SubmissionResult], batch: bool
) -> str:
    """Write the report where the options say; return what was written, for the summary."""
    if ns.format == "gradescope" and batch:
        names = submission_names([job.folder for job in jobs])
        write_gradescope_folders(results, names, ns.output)
        return f"{len(results)} results.json under {ns.output}"
    color = (ns.output is None and sys.stdout.isatty()) if ns.color is None else ns.color
    write_report(render(results, ns.format, color=color), ns.output)
    return "the report to stdout" if ns.output is None else str(ns.output)


def summary(results: list[SubmissionResult], reused: int, wrote: str, saved_in: Path | None) -> str:
    """The one line that tells the instructor what a batch did."""
    total = len(results)
    count = f"{total} submission{'' if total == 1 else 's'}"
    full = sum(r.passed for r in results)
    ungraded = sum(bool(r.ungraded) for r in results)
    marks = f"{full} with full marks, {ungraded} could not be graded"
    if reused == total and total:
        return f"{PROG}: wrote {wrote} ({count}, all reused from {saved_in}; {marks})"
    graded = f"{total - reused} graded" + (f", {reused} reused from {saved_in}" if reused else "")
    return f"{PROG}: {count} ({graded}): {marks}; wrote {wrote}"


def main(argv: list[str] | None = None) -> int:
    """Run the grader; return the exit status."""
    parser = build_parser()
    ns = parser.parse_args(argv)
    jobs = [Job(label, folder) for label, folder in collect_jobs(parser, ns)]
    batch = is_batch(ns, jobs)
    check_destinations(parser, ns, batch)
    try:
        check_reachable(scratch_folder() / "sandbox")
    except RuntimeError as exc:
        parser.error(str(exc))
    chosen = select(ns.exercise, ns.challenges)
    if ns.watch:
        if len(jobs) != 1 or ns.format != "text" or ns.output or ns.results_dir:
            parser.error("--watch grades one PATH and prints text: no --output or --results-dir")
        color = sys.stdout.isatty() if ns.color is None else ns.color
        return watch(jobs[0].folder, chosen, limits_from(ns), color=color)
    prepare_folders(parser, ns, batch)
    interactive = sys.stdout.isatty() and sys.stderr.isatty()
    show = interactive if ns.progress is None else ns.progress
    try:
        with ProgressBar(len(jobs), enabled=show) as bar:
            results = run_batch(
                jobs,
                limits_from(ns),
                exercises=chosen,
                workers=ns.jobs,
                results_dir=ns.results_dir,
                progress=bar.update,
                regrade=ns.regrade,
            )
    except KeyboardInterrupt:
        saved = f" in {ns.results_dir}" if ns.results_dir else ""
        print(f"{PROG}: interrupted; results saved so far are kept{saved}", file=sys.stderr)
        return EXIT_INTERRUPTED
    try:
        wrote = deliver(ns, jobs, results, batch)
    except OSError as exc:
        print(f"{PROG}: error: cannot write the report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if (batch or ns.results_dir is not None) and not ns.quiet:
        print(summary(results, bar.reused, wrote, ns.results_dir), file=sys.stderr)
    return EXIT_PASSED if all(r.passed for r in results) else EXIT_FAILED
