"""The grader process behind the notebook's ``check()``, kept warm for the kernel's lifetime.

Starting Python and importing the grader and FastAPI costs more than grading a
passing exercise, so the kernel starts one grader process (``python -m
grader.check_server``) at its first check and sends it every later one. The
process has the grader and FastAPI loaded; a check then costs one sandboxed
server forked from it, as in a batch worker. The student's code never runs in
the kernel, nor in this process: only in the sandbox.

The protocol is one JSON object per line. The kernel writes
``{"folder": PATH, "exercises": [ID, ...], "timeout": SECONDS}``; the grader
answers ``{"record": RESULT}`` (the submission result as ``to_record`` writes it)
or ``{"error": WHY}``. The answers go out on a copy of the standard output taken
at start-up, and the standard output itself is pointed at the standard error, so
nothing else printed in this process, and nothing a sandbox could write, mixes
into them. The process ends when its standard input closes, which happens when
the kernel exits or restarts.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from grader.results import ExerciseResult, from_record, to_record

MAX_REPLY = 64 * 1024 * 1024  # bytes of one answer; a result is far smaller
SAFETY_MARGIN = 30.0  # seconds on top of the per-exercise limits the grader enforces itself
READ_SIZE = 1 << 16
ERROR_LINES = 3  # of the grader's standard error, shown when it stops
ENDING_GRACE = 1.0  # seconds for a grader process that went silent to be seen ending


class CheckServer:
    """The kernel's side: starts the grader process when needed and sends it checks."""

    def __init__(self, command: list[str] | None = None, margin: float = SAFETY_MARGIN) -> None:
        self.command = command or [sys.executable, "-m", "grader.check_server"]
        self.margin = margin
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None
        self._turn = threading.Lock()  # one check at a time: answers come back in order

    def grade(
        self,
        folder: Path,
        exercise_ids: list[str],
        timeout: float,
        while_waiting: Callable[[], object] = lambda: None,
    ) -> tuple[list[ExerciseResult], str | None]:
        """The graded results, or why the grader could not give them (then it is restarted).

        ``while_waiting`` runs once the request is sent, while the grader works.
        """
        request = {"folder": str(folder), "exercises": exercise_ids, "timeout": timeout}
        patience = timeout * 2 * len(exercise_ids) + self.margin
        with self._turn:
            return self._exchange(request, exercise_ids, patience, while_waiting)

    def _exchange(
        self,
        request: dict[str, Any],
        exercise_ids: list[str],
        patience: float,
        while_waiting: Callable[[], object],
    ) -> tuple[list[ExerciseResult], str | None]:
        """One request and its answer, read into results."""
        try:
            line = self._ask(json.dumps(request).encode() + b"\n", patience, while_waiting)
        except BaseException:  # interrupted mid-check: its answer would come to the next one
            self.close()
            raise
        if line is None:
            why = self._stopped_why()
            self.close()
            return [], why
        try:
            reply = json.loads(line)
            if "error" in reply:
                return [], f"The grader could not run: {reply['error']}"
            record = from_record(reply["record"])
            return [record.exercise(i) for i in exercise_ids], None
        except (ValueError, KeyError, TypeError, StopIteration) as exc:
            self.close()
            return [], f"The grader's answer could not be read ({exc!r})."

    def _ask(
        self, request: bytes, patience: float, while_waiting: Callable[[], object]
    ) -> bytes | None:
        """Send one request and read its answer line; None when none came in time."""
        process = self.start()
        assert process.stdin is not None and process.stdout is not None
        deadline = time.monotonic() + patience
        try:
            process.stdin.write(request)
            process.stdin.flush()
        except OSError:
            return None
        while_waiting()
        return read_line(process.stdout, deadline)

    def idle(self) -> bool:
        """True when no grader process runs (the next check starts one)."""
        return self._process is None or self._process.poll() is not None

    def start(self) -> subprocess.Popen[bytes]:
        """The grader process, started (without waiting for it) when there is none or it ended."""
        if self._process is not None and self._process.poll() is None:
            return self._process
        self.close()
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self._process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors
        )
        return self._process

    def _stopped_why(self) -> str:
        """Why no answer came: the process ended (with its last error lines) or took too long."""
        try:
            if self._process is not None:
                self._process.wait(ENDING_GRACE)  # an answer cut short: the process is ending
        except subprocess.TimeoutExpired:
            return "The grader did not answer in time; run the check again."
        last = b""
        if self._errors is not None:
            self._errors.seek(0)
            last = self._errors.read()[-4096:]
        lines = last.decode("utf-8", "replace").strip().splitlines()[-ERROR_LINES:]
        return "The grader stopped" + (f": {' '.join(lines)}" if lines else ".")

    def close(self) -> None:
        """End the grader process, if any."""
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
        if self._errors is not None:
            self._errors.close()
            self._errors = None


def read_line(stream: IO[bytes], deadline: float) -> bytes | None:
    """One line from a pipe by the deadline; None on timeout, end of file or an endless line."""
    buffer = bytearray()
    fd = stream.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            data = os.read(fd, READ_SIZE)
            if not data or len(buffer) + len(data) > MAX_REPLY:
                return None
            buffer += data
    return bytes(buffer.partition(b"\n")[0])


def answer(request: Any) -> dict[str, Any]:
    """Grade what one request asks for; the reply object."""
    from grader.exercises import ids, select
    from grader.runner import grade_submission
    from grader.sandbox import Limits, check_reachable, scratch_folder

    if not isinstance(request, dict) or not isinstance(request.get("folder"), str):
        return {"error": 'a request is a JSON object with a "folder"'}
    folder = Path(request["folder"])
    wanted = [str(i) for i in request.get("exercises") or ()]
    unknown = sorted(set(wanted) - set(ids()))
    if unknown:
        return {"error": f"unknown exercise {unknown[0]!r}"}
    if not folder.is_dir():
        return {"error": f"no such submission folder: {folder}"}
    try:
        check_reachable(scratch_folder() / "sandbox")
    except RuntimeError as exc:
        return {"error": str(exc)}
    chosen = select(wanted)
    limits = Limits(timeout=float(request.get("timeout", Limits.timeout)))
    return {"record": to_record(grade_submission(folder, limits, chosen, label="."))}


def serve(requests: IO[str], replies: IO[str]) -> None:
    """Answer each request line until the input ends."""
    for line in requests:
        try:
            reply = answer(json.loads(line))
        except Exception as exc:  # one bad request costs its answer, not the process
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> int:
    """Keep the answers' channel to ourselves, load what grading needs, then serve."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    from grader.sandbox import warm_up

    warm_up()
    serve(sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
