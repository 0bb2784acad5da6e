"""Submission-controlled text made safe to show: no character can forge or hide a line."""

from __future__ import annotations

import codecs
import unicodedata

import pytest

from grader.report.untrusted import MAX_CHARACTERS, cap, escape, safe_text, single_line

# Each of these, shown as it is, starts a line, reorders one or hides text.
LINE_BREAKERS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff\u2060\u2061\u2062\u2063\u2064\u00ad\u180e"
HIDDEN = "\U000e0041\U000e007f\ue000\u115f\u3164"  # tags, private use, Hangul fillers


@pytest.mark.parametrize("character", LINE_BREAKERS + BIDI_CONTROLS + ZERO_WIDTH + HIDDEN)
def test_every_forging_character_is_spelled_out_as_a_python_escape(character):
    shown = escape(f"a{character}b")
    assert character not in shown
    assert shown.isascii()
    assert codecs.decode(shown, "unicode_escape") == f"a{character}b"


def test_escaped_text_has_no_line_break_but_its_own_newlines():
    forged = "ok\u2028ex1   PASS  1/1\rex2   PASS\x0bex3\x85PASS\nsecond line"
    assert escape(forged).splitlines() == [
        "ok\\u2028ex1   PASS  1/1\\x0dex2   PASS\\x0bex3\\x85PASS",
        "second line",
    ]


def test_newlines_and_tabs_of_a_message_are_kept():
    assert escape("line one\n\tline two") == "line one\n\tline two"


def test_ordinary_text_of_any_script_is_left_alone():
    text = "Grüße, 東京, Ελλάδα, café, naïve, emoji 🎉, مرحبا"
    assert escape(text) == text


def test_a_pile_of_combining_marks_is_cut_down_to_what_a_letter_carries():
    zalgo = "e" + "\u0301" * 50
    shown = escape(zalgo)
    assert shown.startswith("e\u0301\u0301\\u0301")
    drawn = [c for c in shown if unicodedata.combining(c)]
    assert len(drawn) == 2


def test_no_unsafe_character_survives_among_all_code_points():
    # Every code point of the planes in use, one after another (surrogates excluded).
    every = "".join(chr(c) for c in range(0x30000) if not 0xD800 <= c <= 0xDFFF)
    shown = escape(every)
    left = {unicodedata.category(c) for c in shown if c not in "\n\t" and not c.isprintable()}
    assert left <= {"Zs"}  # spaces (no-break, ideographic...) stay: they draw a space


def test_long_text_is_capped_and_says_how_much_was_cut():
    text = "x" * (MAX_CHARACTERS + 1234)
    assert cap(text) == "x" * MAX_CHARACTERS + "… (1234 more characters)"
    assert len(safe_text(text)) < MAX_CHARACTERS + 40
    assert cap("short") == "short"


def test_the_cap_comes_before_escaping_so_escapes_cannot_be_cut_in_half():
    text = "\u2028" * (MAX_CHARACTERS + 5)
    shown = safe_text(text)
    assert shown.endswith("\\u2028… (5 more characters)")


def test_single_line_escapes_newlines_and_tabs_too():
    assert single_line("name\nex1 PASS\tx") == "name\\nex1 PASS\\tx"


def test_anything_is_shown_as_its_text():
    assert safe_text(42) == "42"
    assert safe_text(None) == "None"
