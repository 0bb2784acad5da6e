"""The exercise registry (grader/exercises/): every exercise module found, ordered and selected."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import grader.exercises as registry
from grader.exercises import ALL, CHALLENGES, EXERCISE_IDS, EXERCISES, exercise, select
from grader.exercises.base import Exercise

ROOT = Path(__file__).resolve().parents[2]
MODULE = """\
from grader.exercises.base import Exercise

EXERCISE = Exercise(
    id="{id}", module="{module}", title="Added by one module", method="GET",
    path="/added", media_type="text/plain", hint="The full hint.", challenge=True,
)
"""


@pytest.fixture
def extra_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder searched for exercise modules besides the package's own, for one test."""
    monkeypatch.setattr(registry, "__path__", [*registry.__path__, str(tmp_path)])
    registry._registry.cache_clear()
    yield tmp_path
    registry._registry.cache_clear()
    for name in [n for n in sys.modules if n.startswith("grader.exercises.ex") and "_added" in n]:
        del sys.modules[name]


def test_every_module_of_the_package_named_like_an_exercise_is_registered() -> None:
    package = ROOT / "grader" / "exercises"
    modules = sorted(p.stem for p in package.glob("ex*_*.py"))
    assert sorted(ex.module for ex in ALL) == modules
    assert all(isinstance(ex, Exercise) for ex in ALL)


def test_the_lesson_s_exercises_are_the_default_and_the_challenges_are_apart() -> None:
    assert EXERCISE_IDS[:3] == ("ex1", "ex2", "ex3")
    assert tuple(ex for ex in ALL if not ex.challenge) == EXERCISES
    assert tuple(ex for ex in ALL if ex.challenge) == CHALLENGES
    assert select(None) == EXERCISES
    assert select(None, challenges=True) == ALL


def test_a_selection_keeps_the_registry_s_order_and_adds_challenges_when_asked() -> None:
    assert select(["ex3", "ex1"]) == (exercise("ex1"), exercise("ex3"))
    assert select(["ex2", "ex2"]) == (exercise("ex2"),)
    assert select(["ex2"], challenges=True) == (exercise("ex2"), *CHALLENGES)


def test_an_unknown_id_names_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="unknown exercise 'ex99'; expected one of ex1, ex2, ex3"):
        exercise("ex99")
    with pytest.raises(KeyError, match="ex99"):
        select(["ex1", "ex99"])


def test_an_exercise_is_added_by_writing_its_module(extra_folder: Path) -> None:
    for number in (10, 9):
        module = f"ex{number}_added"
        (extra_folder / f"{module}.py").write_text(MODULE.format(id=f"ex{number}", module=module))
    ids = [ex.id for ex in registry.ALL]
    assert ids[-2:] == ["ex9", "ex10"]  # by number, not by name
    assert exercise("ex10").title == "Added by one module"
    assert exercise("ex10") in registry.CHALLENGES
    assert exercise("ex10") not in registry.EXERCISES


def test_a_module_without_its_exercise_is_named(extra_folder: Path) -> None:
    (extra_folder / "ex11_added.py").write_text("APP = None\n")
    with pytest.raises(TypeError, match=r"grader\.exercises\.ex11_added has no module-level"):
        registry.exercise("ex1")


def test_a_module_whose_exercise_names_another_module_is_refused(extra_folder: Path) -> None:
    (extra_folder / "ex12_added.py").write_text(MODULE.format(id="ex12", module="ex12_other"))
    with pytest.raises(ValueError, match=r"EXERCISE\.module is 'ex12_other'"):
        registry.exercise("ex1")
