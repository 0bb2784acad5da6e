"""Nothing of a batch outlives it, however its main process ends (SIGKILL included).

Every process of a batch dies with its parent: workers with the main process,
a sandbox's init with its worker, the sandbox's processes with init (its PID
namespace) and, failing all that, with the sandbox's cgroup. What a batch
leaves on disk, the sandboxes' folders, lies in one folder of the batch's own,
and the cgroups in one cgroup folder of the batch's own. A small *reaper*
process, forked before anything else, waits for the main process to close a
pipe (which the kernel does when it dies, whatever the cause), then kills
whatever is left in the batch's cgroups and deletes both folders (after a
normal end, just the batch's folder). IPC objects need no reaper: each sandbox
has an IPC namespace of its own, which the kernel deletes with its last process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from grader import cgroups
from grader.jail import name_process
from grader.sandbox import check_reachable, scratch_folder, scratch_root

REAPER_NAME = "grader-reaper"
SETTLE_ROUNDS = 5  # passes over the folder while processes killed a moment ago still write
SETTLE_PAUSE = 0.1


@contextlib.contextmanager
def batch_scope() -> Iterator[Path]:
    """Run a batch whose sandboxes' folders and cgroups are removed whatever ends it.

    Yields the batch's folder, where sandbox folders go meanwhile.
    """
    folder = Path(tempfile.mkdtemp(prefix="grader-batch-", dir=scratch_folder()))
    folder.chmod(0o711)  # the jails' users pass through to their own folders
    batch = cgroups.process_batch()  # made here, so that every worker shares it
    read_end, write_end = os.pipe()
    reaper = _start_reaper(read_end, write_end, folder, batch)
    os.close(read_end)
    try:
        check_reachable(folder)
        with scratch_root(folder):
            yield folder
    finally:
        os.close(write_end)  # the reaper cleans up now, as it would if we had died
        os.waitpid(reaper, 0)


def _start_reaper(
    read_end: int, write_end: int, folder: Path, batch: cgroups.Batch | cgroups.Unavailable
) -> int:
    """Fork the reaper; return its PID."""
    pid = os.fork()
    if pid:
        return pid
    try:  # pragma: no cover - the reaper
        main = os.getppid()
        os.close(write_end)
        _detach(keep=read_end)
        while os.read(read_end, 1):  # nothing is ever written: this waits for the end of file
            pass
        # After a normal end every sandbox removed its own cgroup, and others of this process
        # (not the batch's) may still run: only a main process that died leaves anything.
        if isinstance(batch, cgroups.Batch) and os.getppid() != main:
            batch.remove()
        reap(folder)
    finally:
        os._exit(0)


def _detach(keep: int) -> None:  # pragma: no cover - the reaper
    """Outlive the main process quietly: no signals from its terminal, no inherited files."""
    name_process(REAPER_NAME)
    for number in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(number, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)


def reap(folder: Path) -> None:
    """Delete a batch's folder, while the processes just killed may still be writing in it."""
    for _ in range(SETTLE_ROUNDS):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(SETTLE_PAUSE)
