"""Grading from a notebook: ``check("ex1")`` prints the same feedback as the command line.

The check runs the grader CLI in a separate process, so the student's code is
sandboxed exactly as in batch grading and a hanging or crashing exercise can
never take the notebook's kernel down with it.
"""

from __future__ import annotations

import os
import subprocess
import sys

from grader.contract import exercise

DEFAULT_TIMEOUT = 10.0
# The CLI enforces the per-exercise timeout itself; this only guards against the unexpected.
SAFETY_MARGIN = 30.0


def check(
    exercise_id: str, folder: str | os.PathLike[str] = ".", timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Grade one exercise of the modules in ``folder`` and print the grader's feedback."""
    exercise(exercise_id)  # an unknown id fails here, naming the valid ones
    command = [
        sys.executable,
        "-m",
        "grader",
        str(folder),
        "--exercise",
        exercise_id,
        "--timeout",
        str(timeout),
        "--no-progress",
        "--no-color",
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout * 2 + SAFETY_MARGIN,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print(f"{exercise_id}: the grader did not answer in time; run it again.", file=sys.stderr)
        return
    print(done.stdout, end="")
    if done.returncode not in (0, 1):
        print(done.stderr, end="", file=sys.stderr)
