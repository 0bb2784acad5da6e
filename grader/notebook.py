"""Grading from a notebook: ``check("ex1")`` shows the grader's feedback for one exercise.

In JupyterLab the feedback renders as HTML (a ✓ or ✗ row per check, expected and
received side by side, the timeline as a chart, a nudge and the lesson's hint);
a plain-text front end gets the text report of that one exercise.
``check_all()`` shows the three exercises as a scoreboard.

The student's code never runs in the kernel: a separate grader process
(``python -m grader.notebook``) grades it, each exercise served by a sandboxed
process exactly as in batch grading, and hands back the structured result as
JSON on its standard output, which the sandboxed server cannot write to. A
hanging or crashing exercise never takes the kernel down with it. Failures are
counted (see grader/hints.py) so the lesson's full hint opens after a few.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.contract import EXERCISE_IDS, EXERCISES, exercise
from grader.hints import OPEN_AFTER, FailureLog, HintState, first_time
from grader.results import ExerciseResult, failed_exercise, from_record, to_record

DEFAULT_TIMEOUT = 10.0
# The grader enforces the per-exercise timeout itself; this only guards against the unexpected.
SAFETY_MARGIN = 30.0
GRADER_FAILED = 2
HINT_INDENT = " " * 6  # under the exercise's line, as the text report indents its details


@dataclass(frozen=True)
class Feedback:
    """One graded exercise as the notebook shows it: HTML in JupyterLab, else text."""

    result: ExerciseResult
    hints: HintState

    @property
    def passed(self) -> bool:
        """True when every check of the exercise passed."""
        return self.result.passed

    def _repr_html_(self) -> str:
        from grader.report.html import render_exercise

        return render_exercise(self.result, self.hints)

    def __repr__(self) -> str:
        return exercise_text(self.result, self.hints)


@dataclass(frozen=True)
class Scoreboard:
    """Several graded exercises: a scoreboard in JupyterLab, else the text of each."""

    feedback: tuple[Feedback, ...]

    @property
    def passed(self) -> bool:
        """True when every exercise passed."""
        return all(f.passed for f in self.feedback)

    def _repr_html_(self) -> str:
        from grader.report.html import render_scoreboard

        results = [f.result for f in self.feedback]
        return render_scoreboard(results, [f.hints for f in self.feedback])

    def __repr__(self) -> str:
        return "\n\n".join(repr(f) for f in self.feedback)


def exercise_text(result: ExerciseResult, hints: HintState) -> str:
    """The text report of one exercise (no batch header, summary or total), then its hints."""
    from grader.report.text import Style, exercise_lines

    lines = exercise_lines(result, Style(color=False))
    if hints.open:
        lines.append(f"{HINT_INDENT}Hint (lesson 3): {hints.hint}")
    elif hints.failed:
        lines.append(
            f"{HINT_INDENT}(the lesson's hint shows after {OPEN_AFTER} failures of the same check)"
        )
    return "\n".join(lines)


def check(
    exercise_id: str,
    folder: str | os.PathLike[str] = ".",
    timeout: float = DEFAULT_TIMEOUT,
    *,
    log: FailureLog | None = None,
) -> Feedback:
    """Grade one exercise of the modules in ``folder``; its feedback, to display."""
    return grade_exercises((exercise_id,), folder, timeout, log)[0]


def check_all(
    folder: str | os.PathLike[str] = ".",
    timeout: float = DEFAULT_TIMEOUT,
    *,
    log: FailureLog | None = None,
) -> Scoreboard:
    """Grade all three exercises of the modules in ``folder``; a scoreboard, to display."""
    return Scoreboard(tuple(grade_exercises(EXERCISE_IDS, folder, timeout, log)))


def grade_exercises(
    exercise_ids: Sequence[str],
    folder: str | os.PathLike[str],
    timeout: float,
    log: FailureLog | None,
) -> list[Feedback]:
    """Grade in a grader process; count each result's failures; the feedback, in order."""
    chosen = [exercise(i) for i in exercise_ids]  # an unknown id fails here, naming the valid ones
    results, trouble = run_grader(exercise_ids, folder, timeout)
    if trouble is not None:  # not the student's mistake: nothing to count
        return [
            Feedback(r, first_time(r))
            for r in (failed_exercise(ex, "graded", trouble) for ex in chosen)
        ]
    counter = log or FailureLog()
    return [Feedback(r, counter.record(folder, r)) for r in results]


def grader_command(
    exercise_ids: Sequence[str], folder: str | os.PathLike[str], timeout: float
) -> list[str]:
    """The command that grades the exercises and prints their results as JSON."""
    command = [sys.executable, "-m", "grader.notebook", str(folder), "--timeout", str(timeout)]
    for exercise_id in exercise_ids:
        command += ["--exercise", exercise_id]
    return command


def run_grader(
    exercise_ids: Sequence[str], folder: str | os.PathLike[str], timeout: float
) -> tuple[list[ExerciseResult], str | None]:
    """The graded results, or why the grader itself could not give them."""
    command = grader_command(exercise_ids, folder, timeout)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    _warm_up_renderers()  # while the grader works: the first check then renders at once
    try:
        out, err = process.communicate(timeout=timeout * 2 * len(exercise_ids) + SAFETY_MARGIN)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return [], "The grader did not answer in time; run the check again."
    if process.returncode != 0:
        why = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        return [], f"The grader could not run: {why[0]}"
    try:
        record = from_record(json.loads(out))
    except (ValueError, KeyError, TypeError) as exc:
        return [], f"The grader's answer could not be read ({exc})."
    return [record.exercise(i) for i in exercise_ids], None


def _warm_up_renderers() -> None:
    """Import what rendering needs (matplotlib above all) unless it is already imported."""
    from grader.report import html  # noqa: F401

    try:
        from matplotlib import figure  # noqa: F401
    except ImportError:  # the chart is then missing; the rest of the feedback is not
        return


def main(argv: list[str] | None = None) -> int:
    """Grade exercises of one folder, sandboxed; print the full result as JSON on stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m grader.notebook",
        description="Grade exercises of one submission folder for the notebook's check(); "
        "prints the result, as the batch grader saves it, as JSON.",
    )
    parser.add_argument("folder", type=Path, help="the submission folder")
    parser.add_argument(
        "--exercise", action="append", choices=EXERCISE_IDS, help="grade this exercise"
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per exercise"
    )
    ns = parser.parse_args(argv)
    from grader.runner import grade_submission
    from grader.sandbox import Limits, check_reachable, scratch_folder

    if not ns.folder.is_dir():
        parser.exit(GRADER_FAILED, f"no such submission folder: {ns.folder}\n")
    try:
        check_reachable(scratch_folder() / "sandbox")
    except RuntimeError as exc:
        parser.exit(GRADER_FAILED, f"{exc}\n")
    chosen = tuple(ex for ex in EXERCISES if ex.id in (ns.exercise or EXERCISE_IDS))
    result = grade_submission(ns.folder, Limits(timeout=ns.timeout), chosen, label=".")
    json.dump(to_record(result), sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
