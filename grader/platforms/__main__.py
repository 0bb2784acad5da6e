"""Command line: build the Gradescope bundle or write the GitHub Classroom workflow."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.platforms import student_kit
from grader.platforms.github import DEFAULT_SUBMISSION, DEFAULT_TIMEOUT_MINUTES, workflow
from grader.platforms.gradescope import build_bundle

DEFAULT_BUNDLE = Path("autograder.zip")
DEFAULT_WORKFLOW = Path(".github/workflows/classroom.yml")


def positive_minutes(text: str) -> int:
    """A whole number of minutes, at least one."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of minutes >= 1, got {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    """The command line's two subcommands and their options."""
    main = argparse.ArgumentParser(
        prog="python -m grader.platforms",
        description="Prepare the grader for Gradescope or GitHub Classroom.",
    )
    commands = main.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    gradescope = commands.add_parser(
        "gradescope", help="build the Gradescope autograder zip (setup.sh, run_autograder)"
    )
    gradescope.add_argument("--output", type=Path, default=DEFAULT_BUNDLE, help="zip to write")
    github = commands.add_parser("github", help="write the GitHub Classroom autograding workflow")
    github.add_argument("--output", type=Path, default=DEFAULT_WORKFLOW, help="file to write")
    github.add_argument(
        "--submission",
        default=DEFAULT_SUBMISSION,
        help="folder of the student repository that holds the exercises (default: %(default)s)",
    )
    github.add_argument(
        "--timeout",
        type=positive_minutes,
        default=DEFAULT_TIMEOUT_MINUTES,
        help="minutes each exercise may take (default: %(default)s)",
    )
    student_kit.add_command(commands)
    return main


def main(argv: list[str] | None = None) -> int:
    """Build what the chosen platform needs and say where it went."""
    args = parser().parse_args(argv)
    if args.platform == student_kit.COMMAND:
        try:
            written = student_kit.build(args)
        except OSError as exc:
            print(f"python -m grader.platforms: error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {written}", file=sys.stderr)
        return 0
    if args.platform == "gradescope":
        names = build_bundle(args.output)
        print(f"wrote {args.output} ({len(names)} files)", file=sys.stderr)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(workflow(args.submission, args.timeout), encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
