"""Reading a submission's files as hostile input.

The grader may run as root, and a student decides what their folder holds: a
symbolic link to the reference solution, to a classmate's file or to a root-only
file, a link to ``/dev/zero``, a FIFO that never ends, a file of gigabytes.
Every read of a submission file goes through here: the folder is opened once
(``O_DIRECTORY | O_NOFOLLOW``) and each file relative to it (``openat`` with
``O_NOFOLLOW``, non-blocking, so neither a link nor a FIFO is ever followed or
waited on), and only regular files within a size cap are read. Anything else is
refused with a message that names the file and says what to do; it costs only
the exercise that needs the file.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import UnsafeFile

MAX_FILE_BYTES = 1 << 20  # one module; an exercise is a few KiB
MAX_MODULES = 64  # Python files of one submission copied into its sandbox
MAX_TOTAL_BYTES = 8 << 20
READ_SIZE = 1 << 16
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


@dataclass
class ModuleFiles:
    """The Python modules of a submission folder: their bytes, and those refused, with why."""

    files: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


@contextmanager
def open_folder(folder: Path) -> Iterator[int]:
    """A file descriptor of the submission folder itself, never of a link's target."""
    try:
        fd = os.open(folder, FOLDER_FLAGS)
    except OSError as exc:
        raise UnsafeFile(_folder_problem(folder, exc)) from None
    try:
        yield fd
    finally:
        os.close(fd)


def read_file(folder: Path, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``name`` in ``folder``.

    Raise FileNotFoundError when there is no such entry, UnsafeFile when it is
    anything but a regular file of at most ``limit`` bytes, or cannot be read.
    """
    with open_folder(folder) as fd:
        return _read_at(fd, name, limit)


def exercise_files() -> frozenset[str]:
    """The file names of every exercise the grader knows."""
    from grader.exercises import ALL  # on first use: the exercises build on this module

    return frozenset(ex.filename for ex in ALL)


def read_modules(folder: Path) -> ModuleFiles:
    """Every ``*.py`` regular file at the top of ``folder``, within the caps; refused ones named."""
    found = ModuleFiles()
    budget = MAX_TOTAL_BYTES
    with open_folder(folder) as fd:
        names = [n for n in os.listdir(fd) if n.endswith(".py")]  # noqa: PTH208 (by fd)
        names.sort(key=lambda name: (name not in exercise_files(), name))  # within the caps first
        for index, name in enumerate(names):
            if index >= MAX_MODULES:
                found.refused[name] = (
                    f"{name} was left out: a submission may hold at most {MAX_MODULES} "
                    "Python files."
                )
                continue
            try:
                data = _read_at(fd, name, min(MAX_FILE_BYTES, budget))
            except FileNotFoundError:  # removed since it was listed
                continue
            except UnsafeFile as exc:
                found.refused[name] = exc.message
                continue
            budget -= len(data)
            found.files[name] = data
    return found


def write_modules(modules: ModuleFiles, destination: Path) -> None:
    """Write the modules read by ``read_modules`` into the fresh folder ``destination``.

    Written by the grader, never linked or copied: the sandbox runs exactly the bytes read.
    """
    for name, data in modules.files.items():
        fd = os.open(destination / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        os.fchmod(fd, 0o644)  # whatever the umask: the sandbox's own user must read it
        with os.fdopen(fd, "wb") as out:
            out.write(data)


def _read_at(folder_fd: int, name: str, limit: int) -> bytes:
    """Read the regular file ``name`` relative to the open folder ``folder_fd``."""
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=folder_fd)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnsafeFile(_open_problem(name, folder_fd, exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(_not_regular(name, KINDS.get(stat.S_IFMT(info.st_mode), "not a file")))
        if info.st_size > limit:
            raise UnsafeFile(_too_large(name, limit))
        data = _read_at_most(fd, limit + 1)
    except OSError as exc:
        raise UnsafeFile(f"{name} could not be read ({exc.strerror}).") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while it was read
        raise UnsafeFile(_too_large(name, limit))
    return data


def _read_at_most(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes from ``fd``, reading until end of file or ``size``."""
    chunks: list[bytes] = []
    left = size
    while left > 0 and (chunk := os.read(fd, min(READ_SIZE, left))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _open_problem(name: str, folder_fd: int, exc: OSError) -> str:
    """Why ``name`` could not be opened, for the student."""
    if exc.errno == errno.ELOOP:
        return _not_regular(name, "a symbolic link")
    try:
        kind = stat.S_IFMT(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode)
    except OSError:
        kind = 0
    if kind and kind != stat.S_IFREG:
        return _not_regular(name, KINDS.get(kind, "not a file"))
    return f"{name} could not be read ({exc.strerror}): make it a file you can read and save it."


def _not_regular(name: str, kind: str) -> str:
    """The message for an entry that is not a regular file."""
    return (
        f"{name} is {kind}, not a regular file: the grader reads only regular files, so this "
        f"exercise is not graded. Replace it with a plain file holding your code (copy the "
        f"code itself into {name})."
    )


def _too_large(name: str, limit: int) -> str:
    """The message for a file above the size cap."""
    return (
        f"{name} is larger than {limit // 1024} KiB, the most the grader reads of one file: "
        "an exercise module is a few KiB of code. Remove the data or whatever made it grow."
    )


def _folder_problem(folder: Path, exc: OSError) -> str:
    """Why the submission folder itself could not be opened."""
    if exc.errno in (errno.ELOOP, errno.ENOTDIR) and folder.is_symlink():
        return f"the submission folder {folder} is a symbolic link: grade the folder it names."
    if exc.errno == errno.ENOTDIR:
        return f"the submission {folder} is not a folder."
    return f"the submission folder {folder} could not be read ({exc.strerror})."
