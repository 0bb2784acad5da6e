"""Limiting which files a sandboxed server may open, with Linux's Landlock.

The server runs as a user of its own, but keeps the right to read any file
(CAP_DAC_READ_SEARCH) because the interpreter may live where other users cannot
read, a pyenv under /root, say. Landlock takes that reach away again: the
server may open only the paths it is given, whatever its user and capabilities,
and so can read neither the reference solutions nor a classmate's code in
another sandbox.

Landlock's Python bindings on PyPI are alpha (py-landlock 0.1) or unreleased
(landlock 1.0.0.dev), and the kernel interface is three system calls, so they
are made here directly, with ctypes.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable
from pathlib import Path

# The same numbers on every architecture: these calls came after the tables were unified.
SYS_CREATE_RULESET = 444
SYS_ADD_RULE = 445
SYS_RESTRICT_SELF = 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
READ = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # all a file rule may hold
ABI_1_RIGHTS = (1 << 13) - 1
RIGHTS_ADDED = {2: REFER, 3: TRUNCATE, 5: IOCTL_DEV}
# ABI 6: no signals to, and no abstract Unix sockets of, processes outside the sandbox.
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1
SCOPES_FROM_ABI = 6


class _RulesetAttr(ctypes.Structure):
    # A kernel that knows fewer fields accepts the longer struct while the extra ones are 0.
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # packed in the kernel's header
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _libc() -> ctypes.CDLL:
    """The C library, reporting errno."""
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is missing or disabled."""
    return max(0, int(_libc().syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)))


def handled_rights(abi: int) -> int:
    """Every filesystem right the kernel's ABI knows: each one is denied unless a rule allows it."""
    rights = ABI_1_RIGHTS
    for version, right in RIGHTS_ADDED.items():
        if abi >= version:
            rights |= right
    return rights


def restrict(read: Iterable[Path], write: Iterable[Path], hidden: Iterable[Path] = ()) -> None:
    """From now on, let this process (and all it starts) open only ``read`` and ``write`` paths.

    ``read`` paths may be read and executed, ``write`` paths also changed; both
    cover everything beneath a folder, except that nothing beneath a ``hidden``
    path may be read (``readable_rules``). Paths that do not exist are skipped.
    Where the kernel can, signals and abstract Unix sockets are kept inside too.
    Call it before starting threads: Landlock restricts the calling thread.
    """
    restrict_to_rules(readable_rules(read, hidden), write)


def restrict_to_rules(read: Iterable[tuple[Path, int]], write: Iterable[Path]) -> None:
    """``restrict``, with the read rules already worked out (``readable_rules``)."""
    libc = _libc()
    abi = abi_version()
    handled = handled_rights(abi)
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= SCOPES_FROM_ABI else 0
    attr = _RulesetAttr(handled, 0, scoped)
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for path, rights in read:
            _allow(libc, ruleset, path, rights & handled)
        for path in write:
            _allow(libc, ruleset, path, handled)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)


def _allow(libc: ctypes.CDLL, ruleset: int, path: Path, rights: int) -> None:
    """Add a rule allowing ``rights`` beneath ``path`` (only the file rights, for a file)."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not path.is_dir():
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        if libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)


def readable_rules(roots: Iterable[Path], hidden: Iterable[Path]) -> list[tuple[Path, int]]:
    """Rules that let a process read beneath every root, but nothing beneath a hidden path.

    Landlock can only allow: a path beneath an allowed folder cannot be taken back.
    So a folder holding a hidden path may only be listed (READ_DIR, which the
    import system needs), and each of its entries is allowed on its own, save the
    hidden ones, and so on down to each hidden path. Links are compared by what
    they point to, so no link leads into a hidden folder.
    """
    concealed = [path.resolve() for path in hidden]
    rules: list[tuple[Path, int]] = []
    seen: set[Path] = set()
    for root in roots:
        rules += _rules_beneath(root.resolve(), concealed, seen, named=True)
    return rules


def _rules_beneath(
    path: Path, hidden: list[Path], seen: set[Path], *, named: bool = False
) -> list[tuple[Path, int]]:
    """The rules for ``path`` (resolved): all of it, or its entries one by one, or nothing.

    A root ``named`` as readable stays so even inside a hidden folder (a virtual
    environment inside a hidden clone, say); only what holds a hidden path is split.
    """
    if path in seen or (not named and any(h == path or h in path.parents for h in hidden)):
        return []
    if not any(path in h.parents for h in hidden):
        return [(path, READ)]
    seen.add(path)
    rules = [(path, READ_DIR)]
    try:
        entries = sorted(os.listdir(path))  # noqa: PTH208 (plain names suffice)
    except OSError:
        return rules
    for name in entries:
        rules += _rules_beneath((path / name).resolve(), hidden, seen)
    return rules
