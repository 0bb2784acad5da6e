"""Every notebook runs on the runtime dependencies alone, not on the test extra.

The first Quick start command installs only ``[project] dependencies``. Each
import of a notebook's code cells, and of the kit's own modules those cells
import (followed module by module), must be the standard library, the kit
itself, or a distribution in the closure of those dependencies: the packages
they name, the packages those require, and so on, as pip would install them.
"""

import ast
import importlib.metadata
import sys
import tomllib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_FOLDERS = ("lessons", "exercises")
# IPython magics that import a package of their own when run.
MAGIC_IMPORTS = {"matplotlib": "matplotlib", "pylab": "matplotlib"}


@dataclass(frozen=True)
class Use:
    """One import: the top-level module name and where it is written (file and line)."""

    module: str
    where: str


def notebooks() -> list[Path]:
    """Every notebook a student opens."""
    found = [p for folder in NOTEBOOK_FOLDERS for p in sorted((ROOT / folder).rglob("*.ipynb"))]
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def magic_import(node: ast.Call) -> str | None:
    """The package a ``get_ipython().run_line_magic("matplotlib", ...)`` call imports."""
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "run_line_magic" and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return MAGIC_IMPORTS.get(first.value)
    return None


def imported(tree: ast.AST, package: str) -> Iterator[tuple[str, int]]:
    """Every absolute module name imported anywhere in the tree, with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (module := magic_import(node)):
            yield module, node.lineno
        elif isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}".strip(".")
            yield from ((f"{base}.{alias.name}".strip("."), node.lineno) for alias in node.names)


def notebook_code(path: Path) -> Iterator[tuple[ast.AST, str]]:
    """Each code cell as Python (magics turned into calls), with its place for messages."""
    transformer = TransformerManager()
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code":
            source = transformer.transform_cell(cell.source)
            yield ast.parse(source), f"{shown(path)} cell {number}"


def shown(path: Path) -> str:
    """A path as messages show it: relative to the kit when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def local_file(name: str, folders: tuple[Path, ...]) -> Path | None:
    """The kit's own source file for a dotted module name, or None if it is not the kit's."""
    parts = name.split(".")
    for folder in folders:
        for size in range(len(parts), 0, -1):  # `from pkg import name` may name no module
            base = folder.joinpath(*parts[:size])
            for candidate in (base / "__init__.py", base.with_suffix(".py")):
                if candidate.is_file():
                    return candidate
    return None


def package_of(file: Path) -> str:
    """The dotted package a kit file belongs to, for resolving its relative imports."""
    if not file.is_relative_to(ROOT):
        return ""
    return ".".join(file.parent.relative_to(ROOT).parts)


def third_party_uses(notebook: Path) -> list[Use]:
    """The imports a notebook needs from outside the standard library and the kit."""
    folders = (notebook.parent, ROOT)
    pending = deque((tree, where, "") for tree, where in notebook_code(notebook))
    seen: set[Path] = set()
    uses = []
    while pending:
        tree, where, package = pending.popleft()
        for name, line in imported(tree, package):
            top = name.partition(".")[0]
            source = local_file(name, folders)
            if source is not None:
                if source not in seen:
                    seen.add(source)
                    tree = ast.parse(source.read_text(encoding="utf-8"))
                    pending.append((tree, shown(source), package_of(source)))
            elif top not in sys.stdlib_module_names:
                uses.append(Use(top, f"{where}, line {line}"))
    return uses


def requirement_applies(requirement: Requirement, extra: str) -> bool:
    """Whether pip would install this requirement on this machine for this extra."""
    if requirement.marker is None:
        return True
    return requirement.marker.evaluate({**default_environment(), "extra": extra})


@cache
def runtime_closure() -> frozenset[str]:
    """The distributions ``pip install .`` brings in: [project] dependencies, recursively."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pending = [r for r in map(Requirement, project["dependencies"]) if requirement_applies(r, "")]
    closure: set[str] = set()
    expanded: set[tuple[str, str]] = set()  # (distribution, extra) whose requirements are queued
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        closure.add(name)
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) not in expanded:
                expanded.add((name, extra))
                needs = map(Requirement, importlib.metadata.requires(requirement.name) or [])
                pending += [need for need in needs if requirement_applies(need, extra)]
    return frozenset(closure)


def distributions_of(module: str) -> set[str]:
    """The installed distributions that provide a top-level module."""
    names = importlib.metadata.packages_distributions().get(module, [])
    return {canonicalize_name(name) for name in names}


def missing_from_runtime(notebook: Path) -> list[str]:
    """One message per import the runtime dependencies do not provide."""
    problems = []
    closure = runtime_closure()
    for use in third_party_uses(notebook):
        providers = distributions_of(use.module)
        if not providers:
            problems.append(f"{use.where}: `{use.module}` is installed by no distribution")
        elif not providers & closure:
            wanted = ", ".join(sorted(providers))
            problems.append(
                f"{use.where}: `{use.module}` comes from {wanted}, which is not among "
                "pyproject.toml's [project] dependencies (nor required by them)"
            )
    return problems


def test_there_are_notebooks_to_check():
    names = {path.relative_to(ROOT).as_posix() for path in notebooks()}
    assert "exercises/exercises.ipynb" in names
    assert any(name.startswith("lessons/") for name in names)


@pytest.mark.parametrize("notebook", notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_imports_only_runtime_dependencies(notebook):
    assert missing_from_runtime(notebook) == []


def test_an_import_outside_the_runtime_dependencies_is_caught(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%time 1\nimport fastapi"),
        nbformat.v4.new_code_cell("from grader import notebook"),
        nbformat.v4.new_code_cell("def later():\n    import pytest_timeout"),
        nbformat.v4.new_code_cell("import surely_no_such_module_xyz.sub"),
    ]
    path = tmp_path / "extra.ipynb"
    nbformat.write(notebook, path)

    assert {"fastapi", "pytest_timeout"} <= {use.module for use in third_party_uses(path)}
    assert missing_from_runtime(path) == [
        f"{path} cell 3, line 2: `pytest_timeout` comes from pytest-timeout, which is not "
        "among pyproject.toml's [project] dependencies (nor required by them)",
        f"{path} cell 4, line 1: `surely_no_such_module_xyz` is installed by no distribution",
    ]


def test_a_magic_that_imports_a_package_needs_it(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1\n%matplotlib inline")]
    path = tmp_path / "magic.ipynb"
    nbformat.write(notebook, path)
    assert third_party_uses(path) == [Use("matplotlib", f"{path} cell 1, line 2")]


def test_the_runtime_closure_follows_requirements_not_the_test_extra():
    closure = runtime_closure()
    assert {"fastapi", "starlette", "pydantic", "jupyter-server", "anyio"} <= closure
    assert "pytest-timeout" not in closure
