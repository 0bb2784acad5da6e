"""The pinned packages the grader needs at run time, read from the installed environment.

Grading needs what the submissions import (FastAPI, Starlette), the server and the
client the grader drives them with, and whatever third-party module the grader's own
source imports; each comes with its own dependencies, pinned to the versions
installed here so that every platform grades with exactly what was tested.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

GRADER_DIR = Path(__file__).resolve().parent.parent
# What submissions and the grader's servers and clients need whatever the source imports.
RUNTIME_DISTRIBUTIONS: tuple[str, ...] = (
    *("fastapi", "starlette", "httpx2", "uvicorn"),
    *("uvloop", "httptools"),  # the loop and parser uvicorn runs each sandbox's server with
)
# Sample submissions are not the grader, and this package only builds bundles, never grades.
SKIPPED_DIRS = frozenset({"samples", "platforms", "__pycache__"})
# Integrations that run only inside their own tool (pytest brings itself along).
SKIPPED_FILES = frozenset({"pytest_plugin.py"})


def grader_sources(root: Path = GRADER_DIR) -> Iterator[Path]:
    """The grader's Python files that run while grading."""
    for path in sorted(root.rglob("*.py")):
        if not SKIPPED_DIRS.intersection(path.relative_to(root).parts) and (
            path.name not in SKIPPED_FILES
        ):
            yield path


def imported_modules(source: str) -> set[str]:
    """Top-level names of the modules a Python source imports absolutely."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def imported_distributions(paths: Iterable[Path]) -> set[str]:
    """The installed distributions that provide the third-party modules these files import."""
    providers = metadata.packages_distributions()
    modules: set[str] = set()
    for path in paths:
        modules |= imported_modules(path.read_text(encoding="utf-8"))
    modules -= set(sys.stdlib_module_names) | {"grader"}
    return {dist for module in modules for dist in providers.get(module, [])}


def installed(name: str) -> bool:
    """True when a distribution of that name is installed here."""
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def dependencies(name: str) -> list[str]:
    """The installed distributions one distribution requires here (no extras)."""
    from packaging.requirements import Requirement  # not needed to check what is installed

    found = []
    for line in metadata.requires(name) or []:
        requirement = Requirement(line)
        applies = requirement.marker is None or requirement.marker.evaluate({"extra": ""})
        if applies and installed(requirement.name):
            found.append(requirement.name)
    return found


def closure(roots: Iterable[str]) -> set[str]:
    """The distributions and all their dependencies, by canonical name."""
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    pending = [canonicalize_name(name) for name in roots]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending += [canonicalize_name(dep) for dep in dependencies(name)]
    return seen


def pinned_requirements() -> list[str]:
    """name==version for every package grading needs, sorted by name."""
    roots = {*RUNTIME_DISTRIBUTIONS, *imported_distributions(grader_sources())}
    return [f"{name}=={metadata.version(name)}" for name in sorted(closure(roots))]


def requirements_txt() -> str:
    """The pinned requirements as a requirements.txt file."""
    header = "# What grading needs, pinned to the versions the grader was tested with.\n"
    return header + "".join(f"{line}\n" for line in pinned_requirements())
