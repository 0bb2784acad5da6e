"""Fresh inputs for every grading: the values the grader puts in place of a submission's own.

Each submission is graded with inputs drawn from a seed of its own: the ``lines``
of exercise 1, the ``messages`` of exercise 2, and for exercise 3 a prompt and
a token sequence per request. Counts and lengths vary, text is partly non-ASCII
and some tokens keep leading spaces, so only an endpoint that reads its inputs
when a request comes in can pass; no constant answer can. Feedback may show the
values: the next grading draws new ones.

Every kind of value of every exercise comes from its own HMAC of the seed, so
seeing one (exercise 1's lines in a failure message, say) tells nothing about
another (exercise 3's tokens). The values never hold CR, LF or another line
break, so each one round-trips as one ``data:`` line or one line of text.

What the sandboxed server must not know in advance (the seed, the tokens, the
prompts) never is in the grader's memory when the server is forked: the seed is
drawn lazily, after the fork (``Seed``). The lines and messages reach the server
only with the requests that use them, the tokens only through the grader's feed,
one at a time, and each prompt only in its own request. A run with ``--seed``
reproduces a verdict; its inputs are then known to whoever knows the seed.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from collections.abc import Callable

SEED_BITS = 63
LINE_COUNT = (4, 7)  # the module defaults hold 3 items: every drawn list is longer
MESSAGE_COUNT = (4, 6)
TOKEN_COUNT = (5, 7)  # the default client yields 4 tokens
WORDS = (
    "naïve", "café", "ünïcödé", "déjà", "vu", "straße", "smörgåsbord", "Ωmega", "λambda",
    "日本語", "中文", "🙂", "🎉", "✓", "→", "résumé", "jalapeño", "façade", "Zürich",
    "stream", "chunk", "event", "token", "server", "client", "async", "await", "yield",
    "loop", "byte", "data", "line", "flush", "socket", "header", "body", "browser", "tick",
    "42", "3.14", "100%", "#7", "x=1", "a,b", "(ok)", "[done]", "'quoted'", '"twice"', "é",
)  # fmt: skip
PUNCTUATION = (",", ".", "!", "?", ":", ";", "…", " —", "!!")
PROMPTS = (
    "Explain SSE in {n} words",
    "Résume le streaming en {n} mots",
    "Write {n} words about event loops",
    "Tell a {n}-word story about a byte",
    "List {n} things a browser does with text/event-stream",
)
NONCE_LETTERS = "abcdefghjkmnpqrstuvwxyzäöüß0123456789"
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


def _rng(seed: int, *label: object) -> random.Random:
    """A random generator for one kind of value, independent of every other kind."""
    message = "/".join(str(part) for part in label).encode()
    digest = hmac.new(str(seed).encode(), message, hashlib.sha256).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _phrase(rng: random.Random, words: int) -> str:
    """A few words from the pool, at least one of them non-ASCII."""
    chosen = [rng.choice(WORDS) for _ in range(words)]
    chosen[rng.randrange(words)] = rng.choice(NON_ASCII)
    return " ".join(chosen)


def lines(seed: int) -> tuple[str, ...]:
    """Exercise 1's ``lines``: 4 to 7 distinct non-empty lines."""
    rng = _rng(seed, "ex1", "lines")
    return _distinct(rng, rng.randint(*LINE_COUNT), lambda: _phrase(rng, rng.randint(1, 4)))


def messages(seed: int) -> tuple[str, ...]:
    """Exercise 2's ``messages``: 4 to 6 distinct messages, none starting with a space.

    No leading space: the lesson lets ``data:`` go without its space, which a
    browser then reads the same way.
    """
    rng = _rng(seed, "ex2", "messages")

    def message() -> str:
        text = _phrase(rng, rng.randint(2, 5))
        return text + rng.choice(PUNCTUATION) if rng.random() < 0.5 else text

    return _distinct(rng, rng.randint(*MESSAGE_COUNT), message)


def _distinct(rng: random.Random, count: int, draw: Callable[[], str]) -> tuple[str, ...]:
    """``count`` distinct values from ``draw()``."""
    values: list[str] = []
    while len(values) < count:
        value = draw()
        if value not in values:
            values.append(value)
    rng.shuffle(values)
    return tuple(values)


def token_count(seed: int) -> int:
    """How many tokens each of exercise 3's requests gets (the same for every request)."""
    return _rng(seed, "ex3", "count").randint(*TOKEN_COUNT)


def tokens(seed: int, request: object) -> tuple[str, ...]:
    """Exercise 3's tokens for one request: some non-ASCII, some with one or two leading spaces."""
    rng = _rng(seed, "ex3", "tokens", request)
    count = token_count(seed)
    drawn = []
    for _ in range(count):
        word = rng.choice(WORDS) if rng.random() < 0.8 else rng.choice(PUNCTUATION).strip()
        drawn.append(" " * rng.choice((0, 0, 1, 1, 2)) + word)
    drawn[rng.randrange(1, count)] = " " + rng.choice(NON_ASCII)  # a leading space for sure
    return tuple(drawn)


def prompt(seed: int, request: object) -> str:
    """Exercise 3's prompt for one request: words, then a nonce no other request shares."""
    rng = _rng(seed, "ex3", "prompt", request)
    nonce = "".join(rng.choice(NONCE_LETTERS) for _ in range(8))
    return f"{rng.choice(PROMPTS).format(n=rng.randint(3, 12))}, s'il vous plaît ✓ [{nonce}]"
