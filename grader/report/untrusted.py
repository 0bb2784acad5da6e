"""Text a submission controls, made safe to show: every report renders it through ``safe_text``.

A submission chooses its exception messages, its printed output, the bytes its
endpoint sends and, through them, parts of the grader's messages. Shown as they
are, such characters could redraw the report: a carriage return, a vertical tab
or U+2028 starts what looks like a new line ("ex1  PASS"), bidirectional
controls reorder a line, zero-width characters hide text, and piles of combining
marks spill over the lines above and below. ``safe_text`` spells every such
character out as an escape (``\\u2028``), keeps the newlines and tabs a
multi-line message needs, and caps the length.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARACTERS = 2000  # of one message, advice or name, before escaping
# Control (Cc), format (Cf: bidi controls, zero-width characters, tags, U+FEFF),
# line and paragraph separators, surrogates, private use and unassigned code points.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# Letters that draw nothing: Hangul fillers and the like, used to hide text.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u180e")
KEPT = frozenset("\n\t")
MAX_COMBINING_RUN = 2  # combining marks kept on one character; the rest are spelled out
ASCII_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape_character(character: str) -> str:
    """The escape sequence that spells one character: \\x1b, \\u2028, \\U000e0041."""
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def cap(text: str, limit: int = MAX_CHARACTERS) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def escape(text: str) -> str:
    """``text`` with every character that could forge or hide a line spelled out."""
    if text.isascii():
        return ASCII_UNSAFE.sub(lambda match: escape_character(match.group()), text)
    shown: list[str] = []
    combining = 0
    for character in text:
        category = unicodedata.category(character)
        combining = combining + 1 if category in ("Mn", "Me") else 0
        unsafe = (
            (category in UNSAFE_CATEGORIES and character not in KEPT)
            or character in INVISIBLE_LETTERS
            or combining > MAX_COMBINING_RUN
        )
        shown.append(escape_character(character) if unsafe else character)
    return "".join(shown)


def safe_text(text: object, limit: int = MAX_CHARACTERS) -> str:
    """Submission-controlled text as a report may print it: capped, then escaped."""
    return escape(cap(str(text), limit))


def single_line(text: object, limit: int = MAX_CHARACTERS) -> str:
    """Like ``safe_text``, with newlines and tabs escaped too: for a cell, a row or a name."""
    return safe_text(text, limit).replace("\n", "\\n").replace("\t", "\\t")
