"""The private mounts of a sandbox: its own scratch space and its own view of processes.

Called by a sandbox's init once it is in mount, IPC and PID namespaces of its
own (``grader.jail``). The mounts exist only in that mount namespace: the
machine never sees them, and the kernel drops them, with every byte written
to them, when the sandbox's last process ends. So a submission that fills its
disk fills only its own capped tmpfs, and nothing it writes outlives it.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
OVERFLOW_ID = 65534  # the kernel's "nobody"


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    """mount(2), raising OSError with the kernel's reason."""
    libc = ctypes.CDLL(None, use_errno=True)
    encoded = [None if value is None else value.encode() for value in (source, target, fstype)]
    if libc.mount(*encoded, ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {fstype or source} on {target}: {os.strerror(errno)}")


def keep_mounts_private() -> None:
    """Stop mounts made from now on from propagating to the machine's mount namespace."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)


def scratch_space(folder: Path, size: int, owner: int | None) -> None:
    """Mount a fresh tmpfs of at most ``size`` bytes on ``folder``, private to ``owner``.

    Its pages are charged to the sandbox's memory cgroup like any other memory.
    """
    options = f"size={size},mode=0700"
    if owner is not None:
        options += f",uid={owner},gid={owner}"
    _mount("tmpfs", str(folder), "tmpfs", MS_NOSUID | MS_NODEV, options)


def own_proc() -> None:
    """Mount a /proc that shows only the processes of this PID namespace.

    The machine's /proc lists every process and, through /proc/PID/net, the
    sockets of other network namespaces, such as the grader's and the other
    sandboxes'.
    """
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV)


def map_own_ids(uid: int, gid: int) -> None:
    """In a fresh user namespace, keep being ``uid``/``gid`` (the only mapping allowed).

    Files the namespace's own tmpfs holds need an owner the namespace can name.
    Root (who took this way only because the kernel refused it a PID namespace)
    is mapped to nobody, so that nothing in the sandbox believes it is root.
    """
    inside_uid, inside_gid = uid or OVERFLOW_ID, gid or OVERFLOW_ID
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{inside_uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{inside_gid} {gid} 1")
