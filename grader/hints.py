"""Hints that teach: a nudge first, the lesson's full hint once the same check keeps failing.

A failed check carries a nudge that points at what to look at without giving the
fix (checks without one get their exercise's nudge for that check, else the
check's general nudge below). The lesson's
own hint for the exercise stays folded away until the same check has failed
``OPEN_AFTER`` times in a row; then it opens by itself.

The failures are counted per exercise folder, exercise and check, in a small
JSON file that survives a kernel restart: ``$SSE_GRADER_HINTS`` when set, else
``sse-grader/hints.json`` in the user's cache folder (``$XDG_CACHE_HOME``,
by default ``~/.cache``). A check that passes starts its count again, so a
mistake made anew later gets its nudge first. A missing, unreadable or corrupt
file counts as empty; failing to save is never an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.exercises import exercise
from grader.results import Check, ExerciseResult
from grader.settings import OPEN_AFTER

ENV_FILE = "SSE_GRADER_HINTS"
FORMAT_VERSION = 1

# Where to look, for a failed check whose message and exercise did not come with a nudge.
CHECK_NUDGES: dict[str, str] = {
    "imports": "Look at the line the message names: the module must import before anything "
    "else can be checked.",
    "graded": "Run the check again; if it keeps failing, show this message to your instructor.",
    "response": "Look at the line the message names, if it names one; else at the route "
    "decorator and at what the endpoint function returns.",
    "content-type": "Look at the media type your StreamingResponse is given.",
    "chunks": "Look at how many times your generator yields, and what each yield holds.",
    "events": "Compare what your generator yields with the expected events, character by "
    "character.",
}
FALLBACK_NUDGE = "Read the failed check's message: it names what the client received."


def nudge(check: Check, exercise_id: str = "") -> str:
    """Where to look for this failed check's mistake, in the exercise ``exercise_id``."""
    try:
        own = exercise(exercise_id).nudges.get(check.name) if exercise_id else None
    except KeyError:
        own = None
    return check.nudge or own or CHECK_NUDGES.get(check.name, FALLBACK_NUDGE)


@dataclass(frozen=True)
class HintState:
    """What a report shows of the hints for one graded exercise."""

    nudge: str  # for the first failed check; empty when the exercise passed
    hint: str  # the lesson's full hint for the exercise
    failures: int  # the most times in a row one of the failing checks has failed
    open: bool  # the full hint opens by itself

    @property
    def failed(self) -> bool:
        """True when there is something to hint at."""
        return bool(self.nudge)


def first_time(result: ExerciseResult) -> HintState:
    """The hints for a result graded without any history: nudge only, the full hint folded."""
    return state_for(result, dict.fromkeys((c.name for c in result.failures()), 1))


def state_for(result: ExerciseResult, counts: dict[str, int]) -> HintState:
    """The hints for a result, given how many times in a row each of its checks failed."""
    failures = result.failures()
    try:
        full = exercise(result.id).hint
    except KeyError:
        full = ""
    most = max((counts.get(c.name, 1) for c in failures), default=0)
    return HintState(
        nudge=nudge(failures[0], result.id) if failures else "",
        hint=full,
        failures=most,
        open=most >= OPEN_AFTER,
    )


def default_path() -> Path:
    """The file the failures are counted in (see the module's docstring)."""
    if named := os.environ.get(ENV_FILE):
        return Path(named)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "sse-grader" / "hints.json"


class FailureLog:
    """Counts failures per folder, exercise and check, in a JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    def record(self, folder: str | os.PathLike[str], result: ExerciseResult) -> HintState:
        """Count this result's failed checks, start its passed ones afresh; return its hints."""
        key = f"{Path(folder).resolve()}::{result.id}"
        data = self._load()
        counts: dict[str, int] = {
            name: n
            for name, n in data.get(key, {}).items()
            if isinstance(name, str) and isinstance(n, int) and not isinstance(n, bool) and n > 0
        }
        for check in result.checks:
            counts[check.name] = counts.get(check.name, 0) + 1 if not check.passed else 0
        kept = {name: n for name, n in counts.items() if n > 0}
        if kept:
            data[key] = kept
        else:
            data.pop(key, None)
        self._save(data)
        return state_for(result, kept)

    def _load(self) -> dict[str, Any]:
        """The folders' counts; empty when the file is missing, unreadable or not ours."""
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
            return {}
        counts = document.get("counts")
        if not isinstance(counts, dict):
            return {}
        return {key: value for key, value in counts.items() if isinstance(value, dict)}

    def _save(self, counts: dict[str, Any]) -> None:
        """Write the counts atomically; a folder that cannot be written only loses the count."""
        document = {"version": FORMAT_VERSION, "counts": counts}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".hints-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(document, out, indent=1)
                Path(tmp).replace(self.path)
            except OSError:
                Path(tmp).unlink(missing_ok=True)
                raise
