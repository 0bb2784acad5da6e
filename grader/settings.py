"""Every threshold and default of the grader, declared once with what it means.

The options an instructor or a student sets (``--timeout``, ``--memory``, …) are
``Option``s: their default and their help text live here, and the command line,
the notebook's ``check()`` and the pytest plugin build theirs from them. The
thresholds the checks judge by are plain numbers, each with the reason for its
value beside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """A setting a user may change: its default and what it means (``{default}`` is filled in)."""

    default: float
    help: str

    def describe(self) -> str:
        """The help text with the default named, as ``--help`` shows it."""
        return self.help.format(default=f"{self.default:g}")


# Per exercise, however many requests it makes, its grading ends within this many timeouts.
EXERCISE_BUDGET = 3

TIMEOUT = Option(
    10.0,
    "time limit, on the grader's clock, of each request to a submission's server "
    "(connecting, the response head and its whole body), and of the server's start "
    "(importing its modules and starting their apps); an exercise's requests together "
    f"end within {EXERCISE_BUDGET} times it; nothing the server sends extends it "
    "(default: {default})",
)
MEMORY_MIB = Option(
    1024,
    "memory a submission's sandbox may use, in MiB: its processes, their shared "
    "memory and its scratch space together (default: {default})",
)
SCRATCH_MIB = Option(
    64,
    "size of a submission's private scratch space (its home and TMPDIR, in memory), "
    "in MiB (default: {default})",
)
CPU_SECONDS = Option(
    30, "CPU time a submission's server may use, all exercises together (default: {default})"
)
OUTPUT_KIB = Option(
    1024,
    "the largest file a submission's server may write, in KiB; what it prints is "
    "kept as its first and last 8 KiB, however much it prints (default: {default})",
)
# Most of a submission's grading time is spent waiting (on a stream, a stall, a
# blocked loop), not computing, so more submissions than cores are graded at once:
# on 2 cores a class of 200 took 10.2 s at 16, 9.3 s at 24 and 9.9 s at 32, where
# the machine runs out of CPU (python -m benchmarks.grader_speed --jobs 24,16,32).
# Capped: each sandbox at work holds tens of MiB of its own, and a machine with many
# cores grades a class in seconds anyway.
JOBS = Option(
    min(12 * (os.cpu_count() or 1), 96), "submissions graded at once (default: {default})"
)

# Exercise 3 (and any exercise served with the grader's feed).
# How long the grader waits for token k's event before it concludes that the
# endpoint holds events back. Only a buffering endpoint ever waits this long.
STALL_AFTER = 0.5
# Seconds of unresponsive event loop that fail the event-loop check.
BLOCKED_LIMIT = 0.2
# After the client disconnects, how long the generator has to stop asking for tokens.
DISCONNECT_GRACE = 0.05
# How long the grader waits, after a hang-up, for a ping the server has not answered yet:
# a free loop answers in a millisecond, a blocked one when its block ends.
PONG_WAIT = 1.0
# How long after a pong the feed pings a call again: the grain at which a blocked loop is
# seen. Finer costs both processes CPU on every stream; coarser blurs a short block.
PING_GAP = 0.02

# The server and its probe.
# A free event loop answers the probe's ping in a millisecond; a hung one never does.
PING_TIMEOUT = 2.0
# A live server answers the probe's other routes (its errors, its streams) in milliseconds.
REPLY_TIMEOUT = 2.0
# How long feedback waits to learn how a dying server ended, for its wording.
EXIT_GRACE = 0.2
# Of a start that ran out of time, how long the modules before the one at work may have
# taken (at most a quarter of the timeout) for that one to be blamed alone; beyond it,
# each suspect is started again in a server of its own.
START_SLACK = 1.0

# The loop watch (grader.loopwatch).
# A round in which two streams ran one after the other for less than this is noise:
# a loaded machine can hold a process off its CPU for a few scheduler slices.
MIN_BLOCK = 0.02
# An acknowledgement later than this means the loop was held; a single late one on a
# loaded machine (the server off its CPU for a few slices) stays under it.
MIN_ACK_DELAY = 0.05

# Hints (grader.hints): failures of the same check after which the lesson's full hint
# opens by itself.
OPEN_AFTER = 3
