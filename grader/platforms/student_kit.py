"""What students receive: the lessons, the exercises and the grader that checks them; no answers.

In the spirit of ``otter assign``, which splits an assignment into a student
version and an autograder version, ``python -m grader.platforms student-kit
--output DIR`` writes the student version of this kit into a new folder:
``lessons/``, ``exercises/`` (the stubs and the student notebook), the
``grader`` package that ``check()`` and ``python -m grader exercises`` run, and
a ``pyproject.toml`` and ``README.md`` that install and explain it.

Left out is every right answer: ``solutions/``, the grader's sample class
(``grader/samples`` holds a student who is right in every exercise), the tests
(their corpora hold right answers too), the benchmarks and the CI files. What
grading a class needs stays in the instructor's bundles (``gradescope``,
``github``, ...), which are built from the full kit.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from pathlib import Path

from grader.platforms.templates import template

KIT_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_FOLDERS = ("lessons", "exercises", "grader")
PROJECT_FILE = "pyproject.toml"
# Relative paths never shipped: right answers, and what Python or Jupyter leave behind.
WITHHELD = (Path("grader") / "samples",)
SKIPPED_NAMES = frozenset({"__pycache__", ".ipynb_checkpoints", ".pytest_cache"})
SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})
GITIGNORE = ".venv/\n__pycache__/\n.ipynb_checkpoints/\n*.egg-info/\n"
COMMAND = "student-kit"


class KitError(OSError):
    """The student kit cannot be built; the message says why and what to do."""


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``student-kit`` subcommand of ``python -m grader.platforms``."""
    command = commands.add_parser(
        COMMAND,
        help="the folder students receive: lessons, exercises and the grader, no answers",
        description=(
            "Write the student version of the kit into a new folder: the lessons, the "
            "exercise stubs and notebook, and the grader that check() runs, with a README "
            "and pyproject.toml to install them. The reference solutions, the grader's "
            "sample class and the tests are left out."
        ),
    )
    command.add_argument(
        "--output", type=Path, required=True, help="folder to write (new, or empty)"
    )


def build(args: argparse.Namespace) -> str:
    """Write the student kit where ``args.output`` says; what was written, for the closing line."""
    names = build_kit(args.output)
    return f"{args.output}/ ({len(names)} files)"


def build_kit(output: Path, root: Path = KIT_ROOT) -> list[str]:
    """Write the student kit into ``output`` (which must be new or empty); the paths written."""
    missing = [name for name in (*SHIPPED_FOLDERS, PROJECT_FILE) if not (root / name).exists()]
    if missing:
        raise KitError(
            f"{', '.join(missing)} not found beside the grader in {root}: build the student "
            "kit from a clone of the whole kit"
        )
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise KitError(f"{output} exists and is not an empty folder: choose a new one")
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for relative in shipped_files(root):
        target = output / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
        written.append(relative.as_posix())
    for name, text in (("README.md", template("student_kit_README.md")), (".gitignore", GITIGNORE)):
        (output / name).write_text(text, encoding="utf-8")
        written.append(name)
    return written


def shipped_files(root: Path = KIT_ROOT) -> Iterator[Path]:
    """The kit's files that students receive, relative to ``root``, in a stable order."""
    yield Path(PROJECT_FILE)
    for folder in SHIPPED_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and _shipped(relative):
                yield relative


def _shipped(relative: Path) -> bool:
    """False for what students never get: withheld answers, caches."""
    if SKIPPED_NAMES.intersection(relative.parts) or relative.suffix in SKIPPED_SUFFIXES:
        return False
    return not any(relative.is_relative_to(withheld) for withheld in WITHHELD)
