"""Nothing of a batch outlives it, and a full scratch space is only its filler's problem.

The batch's main process is SIGKILLed while every worker serves a sandbox that
has started processes, written files and made a System V segment: within
seconds no process, no folder in TMPDIR, no cgroup and no IPC object may be
left. Then a class is graded with TMPDIR on a small tmpfs while one submission
fills every folder it may write: its classmates still pass.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil
import pytest

from grader import cgroups
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from tests.grader.helpers import (
    CORPUS,
    GRADER,
    RUN_LIMIT,
    SYSV_KEY,
    adopting_orphans,
    delegated,
    describe,
    grader,
    ipc_objects,
    kill_all,
    living_children,
    make_submission,
    wait_until,
    without_root,
)

CLASS_SIZE = 3
HOLD = 60  # seconds each sandbox would go on if nothing ended it
SETTLE = 5.0  # seconds everything gets to go after the main process is killed
LINGERING = f"""
import os, subprocess, time
from pathlib import Path

{(CORPUS / "sysv_shm_segment" / EX1.filename).read_text()}
subprocess.Popen(["sleep", "{HOLD}"])
if os.fork() == 0:
    os.setsid()
    time.sleep({HOLD})
    os._exit(0)
Path.home().joinpath("written").write_bytes(b"x" * (1 << 20))
time.sleep({HOLD})
"""
SMALL_TMPFS = "8m"


@contextmanager
def batch_temp_folder() -> Iterator[Path]:
    """A TMPDIR for one batch, which the sandboxes' users may pass through."""
    folder = Path(tempfile.mkdtemp(prefix="grader-cleanup-"))
    folder.chmod(0o711)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def grader_cgroups(pid: int) -> list[Path]:
    """The cgroup folders a grader process with this PID made, anywhere."""
    return list(Path("/sys/fs/cgroup").glob(f"*/**/{cgroups.batch_name(pid)}"))


def below(batch: subprocess.Popen[str], name: str) -> list[psutil.Process]:
    """The batch's descendants called ``name``."""
    try:
        descendants = psutil.Process(batch.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [proc for proc in descendants if proc.name() == name]


@pytest.fixture(params=["as root", "without root"])
def command(request: pytest.FixtureRequest) -> Iterator[tuple[str, ...]]:
    """How the grader is started: as root, or as an ordinary user with a delegated cgroup."""
    if request.param == "as root":
        if os.getuid() != 0:
            pytest.skip("the grader runs as root only when the tests do")
        yield GRADER
        return
    prefix = without_root()
    with delegated(f"grader-cleanup-{os.getpid()}") as delegation:
        yield (*delegation, *prefix, *GRADER)


@pytest.mark.timeout(120)
def test_killing_the_batch_leaves_nothing_behind(tmp_path: Path, command: tuple) -> None:
    names = [f"student{n}" for n in range(CLASS_SIZE)]
    for name in names:
        make_submission(tmp_path / "class" / name, {EX1: LINGERING})
    with ExitStack() as stack:
        tmpdir = stack.enter_context(batch_temp_folder())
        stack.enter_context(adopting_orphans())
        before = {child.pid for child in living_children(set())}
        ipc_before = ipc_objects()
        args = ["--jobs", str(CLASS_SIZE), "--submissions", str(tmp_path / "class")]
        batch = subprocess.Popen(
            [*command, *args],
            env={**os.environ, "TMPDIR": str(tmpdir)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        stack.callback(batch.wait)
        stack.callback(batch.kill)
        # Each module starts its sleep once it made its segment: then it lingers.
        lingering = wait_until(lambda: len(below(batch, "sleep")) == CLASS_SIZE, RUN_LIMIT / 4)
        assert lingering, f"the sandboxes never all started: {batch.stderr.read()[-2000:]}"
        main = psutil.Process(batch.pid)
        batch.send_signal(signal.SIGKILL)
        batch.wait()
        started = time.monotonic()
        gone = wait_until(lambda: not living_children(before) and not any(tmpdir.iterdir()))
        took = time.monotonic() - started
        left = living_children(before)
        kill_all(left)
        assert gone, (describe(left), sorted(p.name for p in tmpdir.iterdir()))
        assert took < SETTLE
        assert sorted(ipc_objects() - ipc_before) == []
        assert not any(f" {SYSV_KEY:#x} " in entry for entry in ipc_objects())
        assert wait_until(lambda: not grader_cgroups(main.pid)), grader_cgroups(main.pid)


@contextmanager
def small_tmpfs() -> Iterator[Path]:
    """A folder on a tmpfs of SMALL_TMPFS, mounted here as root (skips without root)."""
    if os.getuid() != 0:
        pytest.skip("mounting a small tmpfs for TMPDIR needs root, and the test runs without")
    with batch_temp_folder() as folder:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SMALL_TMPFS}", "tmpfs", folder], check=True
        )
        try:
            folder.chmod(0o711)
            yield folder
        finally:
            subprocess.run(["umount", "-l", folder], check=False)


@pytest.mark.timeout(180)
def test_a_neighbour_filling_its_scratch_space_costs_the_others_nothing(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    filler = (CORPUS / "fill_scratch_space" / EX1.filename).read_text()
    make_submission(klass / "filler", {EX1: filler})
    for n in range(CLASS_SIZE):
        make_submission(klass / f"student{n}")
    with small_tmpfs() as tmpdir:
        env = {**os.environ, "TMPDIR": str(tmpdir)}
        done = grader("--format", "json", "--jobs", "2", "--submissions", str(klass), env=env)
        left = sorted(path.name for path in tmpdir.iterdir())
    failed = {
        f"{Path(s['submission']).name} {e['id']}": [c["message"][:200] for c in e["checks"]]
        for s in json.loads(done.stdout)["submissions"]
        for e in s["exercises"]
        if not e["passed"]
    }
    assert failed == {}, done.stderr[-2000:]
    assert done.returncode == 0
    assert left == []
