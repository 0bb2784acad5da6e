"""The README's tour of the grader names every one of its modules."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTION = "### The grader, module by module"


def tour() -> str:
    """The README's section on the grader's modules, up to the next heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n### ", start + len(SECTION))
    return text[start : end if end >= 0 else None]


def modules() -> list[Path]:
    """Every module of the grader package but the packages' own ``__init__.py``
    (the registry's is named: it is more than a package marker)."""
    grader = ROOT / "grader"
    found = [
        path.relative_to(grader)
        for path in grader.rglob("*.py")
        if "samples" not in path.parts and "__pycache__" not in path.parts
    ]
    registry = Path("exercises", "__init__.py")
    return sorted(path for path in found if path.name != "__init__.py" or path == registry)


def test_the_tour_names_every_module_of_the_grader() -> None:
    text = tour()
    named = set(re.findall(r"`([\w/.]+\.py)`", text))
    missing = [str(path) for path in modules() if path.name not in named]
    assert not missing, f"README.md ({SECTION}) does not name: {', '.join(missing)}"


def test_the_tour_names_no_module_that_is_gone() -> None:
    named = set(re.findall(r"`([\w/.]+\.py)`", tour()))
    existing = {path.name for path in modules()} | {"__init__.py"}
    assert not named - existing, f"README.md names modules that do not exist: {named - existing}"
