"""The memory a sandboxed server holds, measured from outside the sandbox.

Nothing the server says about itself counts: the grader reads the kernel's own
accounting. First choice is the sandbox's cgroup, which counts every page its
processes charge (children, shared memory and tmpfs files included):

- cgroup v2: ``memory.current``, and ``memory.peak``, whose peak a write resets
  for later reads through the same open file (Linux 6.12 and later);
- cgroup v1: ``memory.usage_in_bytes``, and ``memory.max_usage_in_bytes``, which a
  write of 0 resets.

Without a usable cgroup, the server process's own high-water mark of resident
memory (``VmHWM`` in /proc/<pid>/status, reset by writing 5 to
/proc/<pid>/clear_refs): blind to its children, but enough for one process that
builds a body. Without either, there is no gauge, and an exercise that needs one
says it could not measure.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from pathlib import Path

from grader.cgroups import Group

V1_PEAK = "memory.max_usage_in_bytes"
V1_CURRENT = "memory.usage_in_bytes"
V2_PEAK = "memory.peak"
V2_CURRENT = "memory.current"
KIB = 1024


class CgroupMemory:
    """A sandbox's memory from its cgroup, v1 or v2."""

    def __init__(self, folder: Path, *, unified: bool) -> None:
        self.folder = folder
        self.unified = unified
        self._peak_fd = -1  # v2: the open memory.peak whose reset later reads see
        self._open: list[int] = []  # closed with the gauge, or when it is collected
        weakref.finalize(self, _close_all, self._open)

    @property
    def source(self) -> str:
        """Where the figures come from, for the instructor."""
        return f"cgroup {'v2' if self.unified else 'v1'} {self.folder}"

    def reset_peak(self) -> None:
        """Start the peak afresh; OSError when the kernel refuses (v2 before Linux 6.12)."""
        if not self.unified:
            _write(self.folder / V1_PEAK, "0")
            return
        self.close()
        fd = os.open(self.folder / V2_PEAK, os.O_RDWR | os.O_CLOEXEC)
        self._open.append(fd)
        self._peak_fd = fd
        os.write(fd, b"reset")

    def peak(self) -> int:
        """The most the cgroup held since the last reset, in bytes."""
        if self._peak_fd >= 0:
            return int(os.pread(self._peak_fd, 64, 0).decode().strip())
        return _number(self.folder / (V2_PEAK if self.unified else V1_PEAK))

    def current(self) -> int:
        """What the cgroup holds now, in bytes."""
        return _number(self.folder / (V2_CURRENT if self.unified else V1_CURRENT))

    def close(self) -> None:
        """Close the open peak file, if any."""
        _close_all(self._open)
        self._peak_fd = -1


class ProcessMemory:
    """One process's resident memory from /proc: its high-water mark and current size."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    @property
    def source(self) -> str:
        """Where the figures come from, for the instructor."""
        return f"/proc/{self.pid}/status (VmHWM, VmRSS)"

    def reset_peak(self) -> None:
        """Start the high-water mark afresh from the current resident size."""
        _write(Path(f"/proc/{self.pid}/clear_refs"), "5")

    def peak(self) -> int:
        """The most resident memory since the last reset, in bytes."""
        return self._field("VmHWM:")

    def current(self) -> int:
        """The resident memory now, in bytes."""
        return self._field("VmRSS:")

    def _field(self, label: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(label):
                return int(line.split()[1]) * KIB
        raise OSError(f"/proc/{self.pid}/status has no {label}")


def sandbox_gauge(group: Group | None, pid: int | None) -> CgroupMemory | ProcessMemory | None:
    """The best gauge of a sandbox the machine allows, tried once now; None when none works.

    ``group`` is the sandbox's cgroup (None when it has none), ``pid`` its server.
    """
    folder = group.folders.get("memory") if group else None
    candidates: list[CgroupMemory | ProcessMemory] = []
    if group is not None and folder is not None:
        candidates.append(CgroupMemory(folder, unified=group.unified))
    if pid:
        candidates.append(ProcessMemory(pid))
    for gauge in candidates:
        try:
            gauge.reset_peak()
            gauge.peak()
            gauge.current()
        except (OSError, ValueError):
            continue
        finally:
            if isinstance(gauge, CgroupMemory):
                gauge.close()  # opened again by the exercise that resets it
        return gauge
    return None


def _write(path: Path, value: str) -> None:
    """Write one value to a kernel file, in one write()."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _number(path: Path) -> int:
    """A kernel file holding one number."""
    return int(path.read_text().strip())


def _close_all(fds: list[int]) -> None:
    """Close every descriptor of ``fds`` and forget them."""
    while fds:
        with contextlib.suppress(OSError):
            os.close(fds.pop())
