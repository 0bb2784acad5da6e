"""Seeded random inputs: what every exercise draws the values it puts in place of a submission's.

Each submission is graded with inputs drawn from a seed of its own (each
exercise's module says which: lines, messages, tokens, prompts). Counts and
lengths vary, text is partly non-ASCII and some values keep leading spaces, so
only an endpoint that reads its inputs when a request comes in can pass; no
constant answer can. Feedback may show the values: the next grading draws new
ones.

Every kind of value of every exercise comes from its own HMAC of the seed
(``rng(seed, "ex1", "lines")``), so seeing one (exercise 1's lines in a failure
message, say) tells nothing about another (exercise 3's tokens). The values
never hold CR, LF or another line break, so each one round-trips as one
``data:`` line or one line of text.

What the sandboxed server must not know in advance never is in the grader's
memory when the server is forked: the seed is drawn lazily, after the fork
(``Seed``). A run with ``--seed`` reproduces a verdict; its inputs are then
known to whoever knows the seed.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from collections.abc import Callable

SEED_BITS = 63
WORDS = (
    "naïve", "café", "ünïcödé", "déjà", "vu", "straße", "smörgåsbord", "Ωmega", "λambda",
    "日本語", "中文", "🙂", "🎉", "✓", "→", "résumé", "jalapeño", "façade", "Zürich",
    "stream", "chunk", "event", "token", "server", "client", "async", "await", "yield",
    "loop", "byte", "data", "line", "flush", "socket", "header", "body", "browser", "tick",
    "42", "3.14", "100%", "#7", "x=1", "a,b", "(ok)", "[done]", "'quoted'", '"twice"', "é",
)  # fmt: skip
PUNCTUATION = (",", ".", "!", "?", ":", ";", "…", " —", "!!")
NON_ASCII = tuple(word for word in WORDS if not word.isascii())
# What no drawn text may hold: line breaks for SSE and for str.splitlines, controls,
# and the characters a report escapes (bidi marks, zero-width spaces, separators).
FORBIDDEN = frozenset(
    "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\u200b\u200c\u200d\u200e\u200f\ufeff"
)


def new_seed() -> int:
    """A fresh seed from the operating system's random source."""
    return secrets.randbits(SEED_BITS)


class Seed:
    """One submission's seed, drawn on first use unless given (``--seed`` reproduces a run).

    Drawn lazily so that a grader that forks a sandbox before asking holds no
    seed at that moment, and the server cannot find it in the memory it inherits.
    """

    def __init__(self, value: int | None = None) -> None:
        self._value = value

    @property
    def value(self) -> int:
        """The seed, drawn now if it was not yet."""
        if self._value is None:
            self._value = new_seed()
        return self._value

    def describe(self) -> str:
        """The seed as the instructor-only details show it."""
        return f"inputs drawn from seed {self.value} (reproduce with --seed {self.value})"


def rng(seed: int, *label: object) -> random.Random:
    """A random generator for one kind of value, independent of every other kind."""
    message = "/".join(str(part) for part in label).encode()
    digest = hmac.new(str(seed).encode(), message, hashlib.sha256).digest()
    return random.Random(int.from_bytes(digest, "big"))


def phrase(generator: random.Random, words: int) -> str:
    """A few words from the pool, at least one of them non-ASCII."""
    chosen = [generator.choice(WORDS) for _ in range(words)]
    chosen[generator.randrange(words)] = generator.choice(NON_ASCII)
    return " ".join(chosen)


def distinct(generator: random.Random, count: int, draw: Callable[[], str]) -> tuple[str, ...]:
    """``count`` distinct values from ``draw()``, shuffled."""
    values: list[str] = []
    while len(values) < count:
        value = draw()
        if value not in values:
            values.append(value)
    generator.shuffle(values)
    return tuple(values)
