"""What the kernel-side limits add to each sandbox's start and end, measured side by side.

Two skeleton sandboxes are started and ended in turns, the way a sandbox's
init is (forked into a fresh PID namespace, then a network namespace of its
own), one *without* the kernel-side limits and one *with* them:

- a cgroup made for it, its memory and process limits written, joined by the
  child, and killed and removed afterwards;
- IPC and mount namespaces, mounts made private, a capped tmpfs on its home
  and a /proc of its own.

Neither imports a submission or starts a server: the difference between the
two is the cost of the limits alone. It needs root (or the delegated cgroups
and user namespaces the grader itself would use); without, it says why.

    .venv/bin/python -m benchmarks.sandbox_limits            # 200 sandboxes per side
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import resource
import sys
import tempfile
from pathlib import Path

from benchmarks import timing
from grader import cgroups, jail, mounts

MODULE = "benchmarks.sandbox_limits"
MiB = 1 << 20
MEMORY = 1024 * MiB
SCRATCH = 64 * MiB
PER_RUN = 20  # sandboxes per timed run: one alone takes about a millisecond


def skeleton(batch: cgroups.Batch | None, home: Path) -> None:
    """Start and end one skeleton sandbox; with the new limits when ``batch`` is given."""
    libc = ctypes.CDLL(None, use_errno=True)
    group = batch.new_group(MEMORY, jail.MAX_PROCESSES) if batch else None
    own = os.open("/proc/self/ns/pid", os.O_RDONLY)
    libc.unshare(jail.CLONE_NEWPID)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            _enter(libc, group, home)
        finally:
            os._exit(0)
    libc.setns(own, jail.CLONE_NEWPID)
    os.close(own)
    os.waitpid(pid, 0)
    if group:
        group.remove()


def _enter(libc: ctypes.CDLL, group: cgroups.Group | None, home: Path) -> None:
    """In the child: what init enters, with or without the new limits."""
    if group is None:
        libc.unshare(jail.CLONE_NEWNET)
        return
    for procs in group.procs:
        procs.write_text("0")
    libc.unshare(jail.CLONE_NEWNET | jail.CLONE_NEWNS | jail.CLONE_NEWIPC)
    mounts.keep_mounts_private()
    mounts.scratch_space(home, SCRATCH, None)
    mounts.own_proc()


def many(batch: cgroups.Batch | None, home: Path) -> None:
    """PER_RUN skeleton sandboxes, one after another."""
    for _ in range(PER_RUN):
        skeleton(batch, home)


def cpu_seconds(action: functools.partial[None]) -> float:
    """CPU seconds this process and its children spent in one call of ``action``."""

    def used() -> float:
        return sum(
            usage.ru_utime + usage.ru_stime
            for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        )

    before = used()
    action()
    return used() - before


def measure(sandboxes: int) -> dict[str, list[float]] | str:
    """Seconds per sandbox of each timed run, without and with the limits; or why not.

    "cpu without" and "cpu with": the CPU seconds per sandbox of one more run each.
    """
    if os.getuid() != 0:
        return "needs root: run it as root, as the grader's own sandboxes would be"
    batch = cgroups.process_batch()
    if isinstance(batch, cgroups.Unavailable):
        return f"no cgroups for sandboxes here ({batch})"
    with tempfile.TemporaryDirectory(prefix="grader-limits-") as home:
        variants = {
            "without": functools.partial(many, None, Path(home)),
            "with": functools.partial(many, batch, Path(home)),
        }
        runs = timing.alternate(variants, max(1, sandboxes // PER_RUN))
        cpu = {f"cpu {name}": [cpu_seconds(run) / PER_RUN] for name, run in variants.items()}
    return {**{name: [t / PER_RUN for t in times] for name, times in runs.items()}, **cpu}


def report(runs: dict[str, list[float]] | str) -> dict[str, object]:
    """Print the cost per sandbox with and without the limits; return the figures."""
    if isinstance(runs, str):
        print(f"kernel-side limits per sandbox: not measured, {runs}")
        return {"skipped": runs}
    without, with_ = timing.median(runs["without"]), timing.median(runs["with"])
    cpu_with, cpu_without = runs["cpu with"][0], runs["cpu without"][0]
    print(
        f"kernel-side limits per sandbox (cgroup, IPC and mount namespaces, tmpfs home, "
        f"own /proc): start and end {timing.ms(with_)} with vs {timing.ms(without)} without, "
        f"+{timing.ms(with_ - without)} wall per sandbox (medians of {len(runs['with'])} runs "
        f"of {PER_RUN}), of which CPU {timing.ms(cpu_with)} vs {timing.ms(cpu_without)}: the "
        "rest is waiting for the kernel, which a batch overlaps across --jobs"
    )
    return {"seconds_per_sandbox": runs, "added_s": with_ - without}


def main(argv: list[str] | None = None) -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__)
    parser.add_argument(
        "--sandboxes",
        type=timing.positive_int,
        default=200,
        help="skeleton sandboxes per side (default 200)",
    )
    ns = parser.parse_args(sys.argv[1:] if argv is None else argv)
    report(measure(ns.sandboxes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
