"""The Gradescope autograder bundle: a zip with setup.sh and run_autograder at its root.

Gradescope unpacks it into /autograder/source, runs setup.sh once to build its image,
then run_autograder for each submission (see Gradescope's "Autograder Specifications").
The zip also holds requirements.txt, pinned to this environment, the grader's source
with pyproject.toml to install it, and a README.md about the bundle itself.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.platforms.requirements import GRADER_DIR, requirements_txt
from grader.platforms.templates import template

REPO_ROOT = GRADER_DIR.parent
PROJECT_FILE = "pyproject.toml"
SKIPPED_PARTS = frozenset({"samples", "__pycache__"})
SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})
EXECUTABLE = 0o755
READABLE = 0o644
# A fixed timestamp makes the same sources give the same zip, byte for byte.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Entry:
    """One file of the bundle: where it goes in the zip, its bytes and its mode."""

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


def bundle_entries(root: Path = REPO_ROOT) -> list[Entry]:
    """Everything the bundle holds, the two scripts Gradescope looks for first."""
    return [
        Entry("setup.sh", template("setup.sh").encode(), EXECUTABLE),
        Entry("run_autograder", template("run_autograder").encode(), EXECUTABLE),
        Entry("requirements.txt", requirements_txt().encode()),
        Entry("README.md", template("bundle_README.md").encode()),
        project_entry(root),
        *grader_entries(root),
    ]


def write_entry(archive: zipfile.ZipFile, entry: Entry) -> None:
    """Store one entry with its Unix mode, so the scripts stay executable."""
    info = zipfile.ZipInfo(entry.name, date_time=ZIP_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100000 | entry.mode) << 16  # regular file + permission bits
    archive.writestr(info, entry.data)


def build_bundle(output: Path, root: Path = REPO_ROOT) -> list[str]:
    """Write the autograder zip to output and return the names it holds."""
    entries = bundle_entries(root)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w") as archive:
        for entry in entries:
            write_entry(archive, entry)
    return [entry.name for entry in entries]
