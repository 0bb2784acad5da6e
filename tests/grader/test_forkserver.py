"""The fork server: sandboxes forked by a pristine copy of the worker, reaped through it."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import psutil

from grader.exercises import EXERCISES
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.forkserver import ForkServer
from grader.sandbox import Sandbox, forked_by
from tests.grader.helpers import FAST, make_submission, real_std_streams, wait_until


def _gone(pid: int) -> bool:
    """True when the process ended (a zombie no one reaped yet counts as ended)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _started(folder: Path, workdir: str) -> Sandbox:
    """A sandbox serving the submission's exercise 1, started (the caller stops it)."""
    box = Sandbox(folder, (EX1,), FAST, Path(workdir), None)
    box.__enter__()
    return box


def test_the_fork_server_forks_the_sandbox_and_relays_its_end(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "submission")
    with (
        real_std_streams(),
        tempfile.TemporaryDirectory(prefix="grader-test-") as workdir,
        ForkServer(EXERCISES) as forker,
        forked_by(forker),
    ):
        box = _started(folder, workdir)
        try:
            assert psutil.Process(box.pid).ppid() == forker.pid != os.getpid()
            assert box.wait_ready() == {}
            response = box.client(EX1).get(EX1.path)
            assert response.status_code == 200
            assert response.text.count("\n") >= 3
            assert box.death() is None  # still serving
            os.kill(box.pid, signal.SIGKILL)
            assert box.death(grace=5.0) == "the server process was killed by SIGKILL"
        finally:
            box.stop()
        assert not psutil.pid_exists(box.pid)  # reaped by the fork server, not left a zombie


def test_a_sandbox_dies_with_its_fork_server(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "submission")
    with real_std_streams(), tempfile.TemporaryDirectory(prefix="grader-test-") as workdir:
        forker = ForkServer(EXERCISES)
        with forked_by(forker):
            box = _started(folder, workdir)
        assert box.wait_ready() == {}
        server = box.server_pid()
        assert server is not None
        forker.close()
        assert wait_until(lambda: _gone(box.pid))
        assert wait_until(lambda: _gone(server))
        # The sandbox still stops cleanly, and says how it ended.
        assert box.death() == "the server process was killed by SIGKILL"
        box.stop()
