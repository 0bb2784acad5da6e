"""The files every platform bundle ships: the grader's own source, and how to write them out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.platforms.requirements import GRADER_DIR

REPO_ROOT = GRADER_DIR.parent
PROJECT_FILE = "pyproject.toml"
SKIPPED_PARTS = frozenset({"samples", "__pycache__"})
SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})
EXECUTABLE = 0o755
READABLE = 0o644


@dataclass(frozen=True)
class Entry:
    """One file of a bundle: where it goes, its bytes and its mode."""

    name: str
    data: bytes
    mode: int = READABLE


def grader_entries(root: Path = REPO_ROOT) -> Iterator[Entry]:
    """The grader package's files, without sample submissions and caches."""
    package = root / "grader"
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(root)
        skipped = SKIPPED_PARTS.intersection(relative.parts) or path.suffix in SKIPPED_SUFFIXES
        if path.is_file() and not skipped:
            mode = EXECUTABLE if path.stat().st_mode & 0o111 else READABLE
            yield Entry(relative.as_posix(), path.read_bytes(), mode)


def project_entry(root: Path = REPO_ROOT) -> Entry:
    """pyproject.toml, which installing the grader with pip reads."""
    path = root / PROJECT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{PROJECT_FILE} not found beside grader/: build from the kit")
    return Entry(PROJECT_FILE, path.read_bytes())


def write_folder(entries: Iterable[Entry], output: Path) -> list[str]:
    """Write the entries under output, with their modes; the names written."""
    names = []
    for entry in entries:
        path = output / entry.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry.data)
        path.chmod(entry.mode)
        names.append(entry.name)
    return names
