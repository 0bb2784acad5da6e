"""Memory and process limits per sandbox, with the kernel's own accounting: control groups.

An RLIMIT is per process, so a submission dodges it by forking, or by holding
memory no process maps (a memfd, a System V segment, a file on tmpfs). A
cgroup counts every page its processes charge, shared memory included, and
every process they start. Each sandbox gets one: a cgroup v2 where the unified
hierarchy has the memory and pids controllers, else a pair of cgroups in v1's
memory and pids hierarchies.

The cgroups go under the grader's own cgroup, never at the root, so the same
code works as root and, without root, in a subtree delegated to the user (such
as a systemd ``Delegate=yes`` unit). A batch gets a folder of its own,
``grader-<pid>``, holding one cgroup per sandbox; a folder whose process is
gone (a grader killed before it could clean up) is removed by the next grader
that starts beside it.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids")
BATCH_PREFIX = "grader-"
ENABLE = " ".join(f"+{c}" for c in CONTROLLERS)
SELF_LEAF = "grader-self"  # v2: where the grader moves itself so its cgroup may have children
KILL_ROUNDS = 50  # processes forked while we kill are killed in the next round
KILL_PAUSE = 0.02


class Unavailable(Exception):
    """The machine gives no cgroup for sandboxes; the message says why, for the report."""


@dataclass(frozen=True)
class Layout:
    """Where the grader's own cgroups are: one folder (v2) or one per v1 controller."""

    unified: bool
    own: dict[str, Path]  # controller -> folder; v2 has one folder for both


def parse_mounts(mountinfo: str) -> dict[str, tuple[Path, str]]:
    """Cgroup mounts from /proc/self/mountinfo: v1 controller (or "" for v2) -> (mount, root)."""
    mounts: dict[str, tuple[Path, str]] = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        after = line.split(" - ", 1)[1].split()
        if len(after) < 3 or after[0] not in ("cgroup", "cgroup2"):
            continue
        root, point = _unescape(fields[3]), Path(_unescape(fields[4]))
        if after[0] == "cgroup2":
            mounts.setdefault("", (point, root))
            continue
        for option in after[2].split(","):
            if option in CONTROLLERS:
                mounts.setdefault(option, (point, root))
    return mounts


def parse_membership(proc_cgroup: str) -> dict[str, str]:
    """/proc/self/cgroup as v1 controller (or "" for v2) -> the cgroup's path."""
    member: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(",") if parts[1] else [""]:
            member[controller] = parts[2]
    return member


def find_layout(mountinfo: str, proc_cgroup: str) -> Layout:
    """The grader's cgroups, v2 when its controllers are there, else v1; or Unavailable."""
    mounts, member = parse_mounts(mountinfo), parse_membership(proc_cgroup)
    if "" in mounts and "" in member:
        folder = _folder(*mounts[""], member[""])
        if set(CONTROLLERS) <= set(_read(folder / "cgroup.controllers").split()):
            return Layout(unified=True, own=dict.fromkeys(CONTROLLERS, folder))
    own = {c: _folder(*mounts[c], member[c]) for c in CONTROLLERS if c in mounts and c in member}
    if not own:
        raise Unavailable("no cgroup hierarchy with the memory or pids controller is mounted")
    return Layout(unified=False, own=own)


def _folder(mount: Path, root: str, path: str) -> Path:
    """The folder of cgroup ``path`` in a hierarchy mounted at ``mount`` showing ``root``."""
    if root != "/" and (path == root or path.startswith(root.rstrip("/") + "/")):
        path = path[len(root) :]  # a cgroup namespace or a bind mount shows part of the tree
    return mount / path.lstrip("/")


def _unescape(field: str) -> str:
    """A mountinfo field with its octal escapes (\\040 for a space) decoded."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: str) -> None:
    """Write one value to a cgroup file, in one write() as the kernel wants."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _counter(path: Path, key: str) -> int:
    """The value of ``key`` in a flat keyed file (memory.events, memory.oom_control)."""
    for line in _read(path).splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


@dataclass(frozen=True)
class Group:
    """The cgroup of one sandbox: controller -> folder (one folder for both in v2)."""

    unified: bool
    folders: dict[str, Path]

    @property
    def procs(self) -> tuple[Path, ...]:
        """The files a process writes "0" to, to join the group."""
        return tuple(folder / "cgroup.procs" for folder in self.distinct())

    def distinct(self) -> list[Path]:
        """Each folder once."""
        return list(dict.fromkeys(self.folders.values()))

    def limit(self, memory: int, processes: int) -> None:
        """Cap the memory (swap included where the kernel counts it) and the processes."""
        if folder := self.folders.get("memory"):
            if self.unified:
                _write(folder / "memory.max", str(memory))
                _write_if_present(folder / "memory.swap.max", "0")
            else:
                _write(folder / "memory.limit_in_bytes", str(memory))
                _write_if_present(folder / "memory.memsw.limit_in_bytes", str(memory))
        if folder := self.folders.get("pids"):
            _write(folder / "pids.max", str(processes))

    def peak_memory(self) -> int:
        """The most memory the group's processes held at once, in bytes (0 when unknown)."""
        name = "memory.peak" if self.unified else "memory.max_usage_in_bytes"
        folder = self.folders.get("memory")
        value = _read(folder / name).strip() if folder else ""
        return int(value) if value.isdigit() else 0

    def oom_kills(self) -> int:
        """How many processes the kernel killed for going over the memory limit."""
        name = "memory.events" if self.unified else "memory.oom_control"
        folder = self.folders.get("memory")
        return _counter(folder / name, "oom_kill") if folder else 0

    def members(self) -> set[int]:
        """The PIDs in the group (as this process's PID namespace numbers them)."""
        pids: set[int] = set()
        for procs in self.procs:
            pids.update(int(pid) for pid in _read(procs).split())
        return pids

    def kill(self) -> None:
        """SIGKILL every process in the group, including those forked meanwhile."""
        if self.unified:
            _write_if_present(self.distinct()[0] / "cgroup.kill", "1")
        for _ in range(KILL_ROUNDS):
            members = self.members()
            if not members:
                return
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(KILL_PAUSE)

    def remove(self) -> None:
        """Kill what is left in the group and delete it."""
        self.kill()
        for folder in self.distinct():
            _rmdir(folder)


def _write_if_present(path: Path, value: str) -> None:
    """Write a file the kernel may lack (no swap accounting, an older kernel)."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        _write(path, value)


def _rmdir(folder: Path) -> None:
    """Remove a cgroup folder, waiting briefly for dying processes to leave it."""
    for _ in range(KILL_ROUNDS):
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                return
            time.sleep(KILL_PAUSE)


class Batch:
    """The cgroup folders of one grader process, holding a cgroup per sandbox it starts.

    ``missing`` names each controller the machine refused, and why.
    """

    def __init__(self, layout: Layout, pid: int | None = None) -> None:
        self.layout = layout
        self.owner = pid or os.getpid()
        self.folders = {c: own / batch_name(self.owner) for c, own in layout.own.items()}
        self.missing = {c: "no hierarchy mounted" for c in CONTROLLERS if c not in layout.own}
        self._count = 0

    def create(self) -> None:
        """Make the batch's folders, clearing those left by graders that are gone.

        A controller whose folder cannot be made (no delegation) goes to ``missing``.
        """
        for folder in dict.fromkeys(self.folders.values()):
            try:
                self._create(folder.parent)
            except OSError as exc:
                why = f"cannot create cgroups in {folder.parent} ({exc.strerror})"
                for controller in [c for c, f in self.folders.items() if f == folder]:
                    del self.folders[controller]
                    self.missing[controller] = why

    def _create(self, own: Path) -> None:
        sweep_stale(own)
        folder = own / batch_name(self.owner)
        if self.layout.unified:
            _enable_controllers(own)
        folder.mkdir(exist_ok=True)
        if self.layout.unified:
            _write(folder / "cgroup.subtree_control", ENABLE)

    def new_group(self, memory: int, processes: int) -> Group:
        """A fresh cgroup for one sandbox, with its limits set.

        A batch folder removed under a running grader (by hand, or by a clean-up
        that took this grader for gone) is made again.
        """
        self._count += 1
        name = f"sandbox-{os.getpid()}-{self._count}"
        group = Group(self.layout.unified, {c: f / name for c, f in self.folders.items()})
        try:
            for folder in group.distinct():
                if not folder.parent.is_dir():
                    self._create(folder.parent.parent)
                folder.mkdir()
            group.limit(memory, processes)
        except OSError:
            group.remove()
            raise
        return group

    def clear(self) -> None:
        """Kill everything in the batch's sandbox cgroups and delete them."""
        for folder in dict.fromkeys(self.folders.values()):
            for child in _subdirs(folder):
                Group(self.layout.unified, {"": child}).remove()

    def remove(self) -> None:
        """Clear the batch, then delete its own folders."""
        self.clear()
        for folder in dict.fromkeys(self.folders.values()):
            _rmdir(folder)


def _subdirs(folder: Path) -> list[Path]:
    try:
        return [path for path in folder.iterdir() if path.is_dir()]
    except OSError:
        return []


def batch_name(pid: int) -> str:
    """The name of the batch folder of process ``pid`` of this PID namespace.

    The namespace is in the name: a grader in another one (another container
    sharing the hierarchy) may have a PID that means nothing here.
    """
    return f"{BATCH_PREFIX}{_pid_namespace()}-{pid}"


def _pid_namespace() -> int:
    return Path("/proc/self/ns/pid").stat().st_ino


def sweep_stale(own: Path) -> None:
    """Remove the batch folders under ``own`` of graders of this PID namespace that are gone."""
    ours = f"{BATCH_PREFIX}{_pid_namespace()}-"
    for folder in _subdirs(own):
        pid = folder.name.removeprefix(ours)
        if folder.name.startswith(ours) and pid.isdigit() and not _alive(int(pid)):
            for child in _subdirs(folder):
                Group(False, {"": child}).remove()
            _rmdir(folder)


def _alive(pid: int) -> bool:
    """True while a process with this PID exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _enable_controllers(own: Path) -> None:
    """Let ``own``'s children use the memory and pids controllers (v2).

    A v2 cgroup with processes in it may not hand controllers to its children, so
    the grader first moves itself into a leaf of its own.
    """
    try:
        _write(own / "cgroup.subtree_control", ENABLE)
        return
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise
    leaf = own / SELF_LEAF
    leaf.mkdir(exist_ok=True)
    _write(leaf / "cgroup.procs", "0")
    _write(own / "cgroup.subtree_control", ENABLE)


def batch_for_this_process() -> Batch:
    """A created Batch under this process's cgroups; Unavailable when no controller is usable."""
    try:
        layout = find_layout(
            Path("/proc/self/mountinfo").read_text(), Path("/proc/self/cgroup").read_text()
        )
    except OSError as exc:
        raise Unavailable(f"cannot read /proc ({exc.strerror})") from exc
    batch = Batch(layout)
    batch.create()
    if not batch.folders:
        raise Unavailable("; ".join(batch.missing.values()))
    return batch


@functools.cache
def process_batch() -> Batch | Unavailable:
    """This process's batch, made on first use and removed when the process exits.

    Forked workers inherit it: their sandboxes' cgroups go in the same folder,
    named after the worker, and only the process that made it removes it.
    """
    try:
        batch = batch_for_this_process()
    except Unavailable as refused:
        return refused
    owner = os.getpid()
    atexit.register(lambda: batch.remove() if os.getpid() == owner else None)
    return batch
