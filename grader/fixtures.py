"""The values the grader puts into a submission's module in place of its own.

They differ from the module defaults in length and content (non-ASCII text,
tokens with leading spaces, another prompt), so an endpoint must read the
module-level names when a request comes in: a hard-coded answer fails.
"""

from __future__ import annotations

from types import ModuleType

from grader.contract import EX1, EX2, EX3, Exercise
from grader.feed import FeedClient

LINES: tuple[str, ...] = ("naïve café", "second line", "ünïcödé ✓", "🙂 fourth", "last one")
MESSAGES: tuple[str, ...] = (
    "Build started ✓",
    "tests: 12 passed, 0 failed",
    "déploiement terminé",
    "all done 🎉",
)
TOKENS: tuple[str, ...] = ("Bon", "jour", " world", "  indented", " — naïve", " 🙂!")
PROMPT = "Explain SSE in five words, s'il vous plaît"


def install(module: ModuleType, ex: Exercise, feed_address: str | None = None) -> None:
    """Replace the exercise's data source in ``module`` with the grader's."""
    if ex is EX1:
        module.lines = list(LINES)
    elif ex is EX2:
        module.messages = list(MESSAGES)
    elif ex is EX3:
        if feed_address is None:
            raise ValueError("exercise 3 needs the address of the grader's token feed")
        module.client = FeedClient(feed_address)
