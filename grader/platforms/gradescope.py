"""The Gradescope autograder bundle: a zip with setup.sh and run_autograder at its root.

Gradescope unpacks it into /autograder/source, runs setup.sh once to build its image,
then run_autograder for each submission (see Gradescope's "Autograder Specifications").
The zip also holds requirements.txt, pinned to this environment, the grader's source
with pyproject.toml to install it, and a README.md about the bundle itself.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from grader.platforms.requirements import requirements_txt
from grader.platforms.sources import (
    EXECUTABLE,
    REPO_ROOT,
    Entry,
    grader_entries,
    project_entry,
)
from grader.platforms.templates import template

# A fixed timestamp makes the same sources give the same zip, byte for byte.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


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
