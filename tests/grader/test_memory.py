"""Gauges of a sandbox's memory read from outside it: its cgroup, else its server's /proc entry.

Each gauge watches a real process that holds and lets go of a known amount of
memory when told to: the peak must see it, the current size must drop after it,
and a reset must start the peak afresh. The cgroup gauge needs root or a
delegated subtree (skipped with the reason otherwise).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import cgroups
from grader.memory import CgroupMemory, ProcessMemory, sandbox_gauge

MiB = 1 << 20
HELD = 96 * MiB
SLACK = 16 * MiB  # what an interpreter's own allocations may add or give back meanwhile
# Holds HELD bytes (written, so every page is resident) while told to, then lets go of them.
HOLDER = f"""
import sys
for command in sys.stdin:
    if command.strip() == "hold":
        block = b"x" * {HELD}
        del block
    print("done", flush=True)
"""


class Holder:
    """A Python process that holds HELD bytes for a moment each time it is asked."""

    def __init__(self, joins: tuple[Path, ...] = ()) -> None:
        join = "".join(f"open({str(p)!r}, 'w').write('0')\n" for p in joins)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", join + HOLDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ask("ready")  # the interpreter is up (and in its cgroup) before anything is read

    def ask(self, command: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "done"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.communicate()  # reaps it and closes its pipes


@pytest.fixture
def group() -> Iterator[cgroups.Group]:
    """A fresh sandbox cgroup in this process's batch (as the sandboxes get), removed afterwards."""
    batch = cgroups.process_batch()
    if isinstance(batch, cgroups.Unavailable):
        pytest.skip(f"no cgroups for sandboxes here: {batch}")
    if "memory" not in batch.folders:
        pytest.skip(f"no memory controller for sandboxes here: {batch.missing}")
    made = batch.new_group(512 * MiB, 64)
    yield made
    made.remove()


def assert_measures_a_held_block(gauge: CgroupMemory | ProcessMemory, holder: Holder) -> None:
    """The peak sees a block held and let go; the current size is back; a reset forgets it."""
    before = gauge.current()
    gauge.reset_peak()
    holder.ask("hold")
    peak = gauge.peak()
    assert HELD - SLACK <= peak - before <= HELD + SLACK, (before, peak)
    assert gauge.current() < before + SLACK
    gauge.reset_peak()
    assert gauge.peak() < before + SLACK


def gauge_sees_a_peak(group: cgroups.Group | None, kind: type) -> None:
    """A process (in ``group``, if any) holds a block and lets go; the gauge of that kind saw it."""
    holder = Holder(group.procs if group else ())
    try:
        gauge = sandbox_gauge(group, holder.proc.pid)
        assert isinstance(gauge, kind)
        assert_measures_a_held_block(gauge, holder)
    finally:
        holder.stop()


def test_the_cgroup_gauge_sees_a_peak_its_process_let_go_of(group: cgroups.Group) -> None:
    gauge_sees_a_peak(group, CgroupMemory)


def test_the_proc_gauge_sees_a_peak_its_process_let_go_of() -> None:
    gauge_sees_a_peak(None, ProcessMemory)


def test_without_cgroup_or_process_there_is_no_gauge() -> None:
    holder = Holder()
    holder.stop()
    assert sandbox_gauge(None, holder.proc.pid) is None  # the process is gone
    assert sandbox_gauge(None, None) is None
