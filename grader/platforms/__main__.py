"""Command line: build what a grading platform needs to run the grader.

Exit status: 0 written, 2 usage error or the grader's requirements missing from the
running Python (one line on stderr saying what to run instead).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from grader.platforms import classroom50, github, gradescope, prairielearn, student_kit
from grader.platforms.requirements import RUNTIME_DISTRIBUTIONS, installed

PROG = "python -m grader.platforms"
EXIT_OK, EXIT_USAGE = 0, 2
# What building any platform's files needs: the packages the pins are read from.
BUILD_DISTRIBUTIONS = ("packaging", *RUNTIME_DISTRIBUTIONS)
EPILOG = """\
examples:
  .venv/bin/python -m grader.platforms gradescope --output autograder.zip
  .venv/bin/python -m grader.platforms github --output .github/workflows/grade.yml
  .venv/bin/python -m grader.platforms classroom50 --output classroom50-autograder/
  .venv/bin/python -m grader.platforms prairielearn --output prairielearn/ --image me/sse-grader:1
  .venv/bin/python -m grader.platforms student-kit --output student-kit/

Every platform grades with the packages pinned to the versions installed in the
Python that runs this command: run it with the kit's .venv/bin/python.
"""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem and how to get help, then exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def bounded_int(low: int, high: int, unit: str) -> Callable[[str], int]:
    """An argument type accepting whole numbers from low to high."""

    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(
                f"expected a whole number of {unit} from {low} to {high}, got {text!r}"
            )
        return int(text)

    return parse


def add_submission(command: argparse.ArgumentParser) -> None:
    """The --submission option of the platforms that grade a student repository."""
    command.add_argument(
        "--submission",
        default=github.DEFAULT_SUBMISSION,
        help="folder of the student repository that holds the exercises (default: %(default)s)",
    )


def parser() -> Parser:
    """The command line's subcommands and their options."""
    main = Parser(
        prog=PROG,
        description="Write what a grading platform needs to run the Lesson 3 grader.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main.add_subparsers(
        dest="platform", required=True, metavar="PLATFORM", parser_class=Parser
    )
    gradescope_command = commands.add_parser(
        "gradescope", help="the Gradescope autograder zip (setup.sh, run_autograder)"
    )
    gradescope_command.add_argument(
        "--output", type=Path, default=Path("autograder.zip"), help="zip to write"
    )
    github_command = commands.add_parser(
        "github", help="a GitHub Actions workflow: job summary, JUnit artifact, fails on failure"
    )
    github_command.add_argument(
        "--output",
        type=Path,
        default=Path(".github/workflows/grade.yml"),
        help="workflow file to write (default: %(default)s)",
    )
    add_submission(github_command)
    github_command.add_argument(
        "--timeout",
        type=bounded_int(1, 360, "minutes"),
        default=github.DEFAULT_TIMEOUT_MINUTES,
        help="minutes the grading job may take (default: %(default)s)",
    )
    classroom50_command = commands.add_parser(
        "classroom50", help="the Classroom 50 autograder folder (autograder.py and the grader)"
    )
    classroom50_command.add_argument("--output", type=Path, required=True, help="folder to write")
    add_submission(classroom50_command)
    prairielearn_command = commands.add_parser(
        "prairielearn", help="a PrairieLearn question (info.json, entrypoint) and its image"
    )
    prairielearn_command.add_argument("--output", type=Path, required=True, help="folder to write")
    prairielearn_command.add_argument(
        "--image",
        default=prairielearn.DEFAULT_IMAGE,
        help="name of the grading image PrairieLearn pulls (default: %(default)s)",
    )
    prairielearn_command.add_argument(
        "--timeout",
        type=bounded_int(1, prairielearn.MAX_TIMEOUT, "seconds"),
        default=prairielearn.DEFAULT_TIMEOUT,
        help="seconds PrairieLearn gives one grading job, at most 600 (default: %(default)s)",
    )
    prairielearn_command.add_argument(
        "--uuid", default=None, help="the question's uuid in info.json (default: a new one)"
    )
    student_kit.add_command(commands)
    return main


def missing_requirements() -> list[str]:
    """The distributions building needs that the running Python lacks."""
    return [name for name in BUILD_DISTRIBUTIONS if not installed(name)]


def build(args: argparse.Namespace) -> str:
    """Write the chosen platform's files; what was written, for the closing line."""
    if args.platform == student_kit.COMMAND:
        return student_kit.build(args)
    if args.platform == "gradescope":
        names = gradescope.build_bundle(args.output)
        return f"{args.output} ({len(names)} files)"
    if args.platform == "github":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(github.workflow(args.submission, args.timeout), encoding="utf-8")
        return str(args.output)
    if args.platform == "classroom50":
        names = classroom50.build_folder(args.output, args.submission)
    else:
        names = prairielearn.build_folder(args.output, args.image, args.timeout, args.uuid)
    return f"{args.output}/ ({len(names)} files)"


def main(argv: list[str] | None = None) -> int:
    """Build what the chosen platform needs and say where it went."""
    args = parser().parse_args(argv)
    missing = missing_requirements()
    if missing:
        print(
            f"{PROG}: error: this Python ({sys.executable}) lacks the grader's requirements "
            f"({', '.join(missing)}); run .venv/bin/python -m grader.platforms "
            f"{args.platform} ... (python3 -m grader.bootstrap grade creates .venv)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        written = build(args)
    except OSError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {written}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
