"""The exercises the grader knows: one module each, found by their names.

Every module of this package named ``ex<digits>_<name>`` holds one exercise, as
its module-level ``EXERCISE`` (an ``grader.exercises.base.Exercise``). Nothing
lists them: an instructor adds an exercise by writing its module. They are
found the first time one is asked for, so the modules the exercises build on
may import ``grader.exercises.base`` without importing every exercise.

``ALL`` holds every exercise in order of number, ``EXERCISES`` the lesson's (the
default selection and score), ``EXERCISE_IDS`` their ids, ``CHALLENGES`` the
optional ones beyond it.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Sequence
from typing import Any

from grader.exercises.base import Exercise

MODULE_NAME = re.compile(r"ex\d+_\w+")

__all__ = [
    "ALL",
    "CHALLENGES",
    "EXERCISES",
    "EXERCISE_IDS",
    "Exercise",
    "exercise",
    "ids",
    "select",
]


@functools.cache
def _registry() -> tuple[Exercise, ...]:
    """Every exercise module's ``EXERCISE``, in order of number."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not MODULE_NAME.fullmatch(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        ex = getattr(module, "EXERCISE", None)
        if not isinstance(ex, Exercise):
            raise TypeError(f"{module.__name__} has no module-level EXERCISE (an Exercise)")
        if ex.module != info.name:
            raise ValueError(f"{module.__name__}: EXERCISE.module is {ex.module!r}")
        found.append(ex)
    ordered = tuple(sorted(found, key=lambda ex: ex.number))
    ids = [ex.id for ex in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError(f"two exercise modules share an id: {ids}")
    return ordered


def __getattr__(name: str) -> Any:
    """The registry's tuples (see the module's docstring), found on first use."""
    if name == "ALL":
        return _registry()
    if name == "EXERCISES":
        return tuple(ex for ex in _registry() if not ex.challenge)
    if name == "CHALLENGES":
        return tuple(ex for ex in _registry() if ex.challenge)
    if name == "EXERCISE_IDS":
        return tuple(ex.id for ex in _registry() if not ex.challenge)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ids() -> tuple[str, ...]:
    """Every exercise's id, in order."""
    return tuple(ex.id for ex in _registry())


def exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; KeyError naming the valid ids otherwise."""
    for ex in _registry():
        if ex.id == exercise_id:
            return ex
    raise KeyError(f"unknown exercise {exercise_id!r}; expected one of {', '.join(ids())}")


def select(exercise_ids: Sequence[str] | None, challenges: bool = False) -> tuple[Exercise, ...]:
    """The exercises to grade, in order: those named, else the lesson's; plus the challenges.

    KeyError for an unknown id, naming the valid ones.
    """
    if exercise_ids:
        named = {exercise(i).id for i in exercise_ids}
    else:
        named = {ex.id for ex in _registry() if not ex.challenge}
    return tuple(ex for ex in _registry() if ex.id in named or (challenges and ex.challenge))
