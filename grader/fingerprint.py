"""What a saved result was graded from: a hash of the submission's files and of the grading setup.

A saved result is reused only while its fingerprint still matches, so a student
who replaces a file is graded again, and so is the whole class when the grader
itself or an option that changes verdicts (time limit, exercises, limits) changes.

The files hashed are exactly those a sandbox is given, read the same safe way
(grader.files: no link followed, no FIFO waited on, size caps), together with
the reasons any were refused, since those are part of the feedback too.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from grader.errors import UnsafeFile
from grader.exercises.base import Exercise
from grader.files import read_modules
from grader.sandbox import Limits

GRADER_ROOT = Path(__file__).resolve().parent
# What serves and reads a submission: a new version of one may change a verdict.
SERVER_PACKAGES = ("fastapi", "starlette", "uvicorn", "anyio", "httpx2")


def canonical_folder(folder: Path) -> str:
    """The folder's one spelling: absolute, symbolic links resolved, no trailing slash."""
    return os.path.realpath(folder)


def setup_fingerprint(limits: Limits, exercises: tuple[Exercise, ...]) -> str:
    """A hash of everything besides the submission that decides its result."""
    digest = hashlib.sha256(grader_fingerprint().encode())
    digest.update(repr(sorted(asdict(limits).items())).encode())
    digest.update(",".join(ex.id for ex in exercises).encode())
    return digest.hexdigest()


@functools.cache
def grader_fingerprint() -> str:
    """The grader's version, its own source, Python's and the server packages' versions."""
    from grader import __version__

    digest = hashlib.sha256(__version__.encode() + sys.version.encode())
    for package in SERVER_PACKAGES:
        try:
            digest.update(f"{package} {metadata.version(package)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} absent\0".encode())
    for path in sorted(GRADER_ROOT.rglob("*.py")):
        if "samples" in path.relative_to(GRADER_ROOT).parts:
            continue
        digest.update(str(path.relative_to(GRADER_ROOT)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def submission_fingerprint(folder: Path, setup: str) -> str | None:
    """A hash of the grading setup and of the modules a sandbox would be given; None when
    the folder itself cannot be read (its result is then never reused)."""
    try:
        modules = read_modules(folder)
    except (UnsafeFile, OSError):
        return None
    digest = hashlib.sha256(setup.encode())
    for name, data in sorted(modules.files.items()):
        digest.update(b"file\0%s\0%d\0" % (os.fsencode(name), len(data)))
        digest.update(data)
    for name, why in sorted(modules.refused.items()):
        digest.update(b"refused\0%s\0%s\0" % (os.fsencode(name), why.encode()))
    return digest.hexdigest()
