"""The rich report (grader/report/html.py) and the timeline chart (grader/report/chart.py)."""

from __future__ import annotations

import base64
import html
import re
import struct

import pytest

from grader.hints import HintState, first_time
from grader.report import chart
from grader.report.html import CHAR_DIFF_LIMIT, render_exercise, render_scoreboard
from grader.results import Check, Chunk, ExerciseResult

SCRIPT = "<script>alert('owned')</script>"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def failing(*checks: Check, **fields) -> ExerciseResult:
    """An ex2 result holding a passed content-type check and the given checks."""
    return ExerciseResult("ex2", [Check("content-type", True, "fine"), *checks], **fields)


def diff_check(expected: tuple[str, ...], actual: tuple[str, ...]) -> Check:
    """A failed events check showing the two sides."""
    return Check("events", False, "they differ", expected=expected, actual=actual)


def side(page: str, which: str) -> str:
    """The <pre> content of the expected or the received side of the first diff."""
    found = re.search(rf'<div class="sse-{which}"><b>[^<]*</b><pre>(.*?)</pre>', page, re.S)
    assert found, f"no {which} side in the diff"
    return found.group(1)


def marks(text: str) -> list[str]:
    """The highlighted parts, unescaped."""
    return [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", text, re.S)]


def png_height(page: str) -> int:
    """The height in pixels of the timeline image, read from its PNG header."""
    found = re.search(
        r'<img class="sse-timeline" alt="[^"]*" src="data:image/png;base64,([^"]+)"', page
    )
    assert found, "no timeline image"
    png = base64.b64decode(found.group(1))
    assert png.startswith(PNG_MAGIC)
    return struct.unpack(">I", png[20:24])[0]


def test_every_check_is_a_row_with_its_mark_name_and_message():
    result = failing(Check("events", False, "no event was ever completed"))
    page = render_exercise(result)
    assert page.startswith('<div class="sse-feedback" data-exercise="ex2">')
    rows = re.findall(
        r'<tr class="sse-check (sse-pass|sse-fail)"><td class="sse-mark">(.)</td>'
        r'<td class="sse-name">([^<]*)</td><td class="sse-message">([^<]*)</td>',
        page,
    )
    assert rows == [
        ("sse-pass", "✓", "content-type", "fine"),
        ("sse-fail", "✗", "events", "no event was ever completed"),
    ]


def test_everything_from_a_submission_is_escaped():
    result = failing(
        Check(SCRIPT, False, f"got {SCRIPT}\x1b[2J", expected=(SCRIPT,), actual=("\x07",)),
        advice=[SCRIPT],
    )
    page = render_exercise(result)
    assert "<script" not in page
    assert page.count(html.escape(SCRIPT)) >= 4  # name, message, diff, advice
    assert "\x1b" not in page and "\x07" not in page
    assert "\\x1b[2J" in page


def test_the_missing_blank_lines_are_highlighted():
    page = render_exercise(
        failing(diff_check(("data: a\n", "\n", "data: b\n", "\n"), ("data: a\n", "data: b\n")))
    )
    assert '<div class="sse-diff" data-check="events">' in page
    expected = side(page, "expected")
    assert html.unescape(re.sub("</?mark>", "", expected)) == "data: a\\n\n\\n\ndata: b\\n\n\\n"
    assert "".join(marks(expected)).count("\\n") == 2
    assert marks(side(page, "actual")) == []


def test_an_eaten_space_is_highlighted():
    page = render_exercise(failing(diff_check(("Bon", " world"), ("Bon", "world"))))
    assert marks(side(page, "expected")) == [" "]
    assert marks(side(page, "actual")) == []


def test_json_quotes_are_highlighted():
    page = render_exercise(failing(diff_check(("tests passed",), ('"tests passed"',))))
    assert marks(side(page, "actual")) == ['"', '"']
    assert marks(side(page, "expected")) == []


def test_long_values_are_compared_line_by_line():
    same = [f"line {i}\n" for i in range(40)]
    long_line = "x" * CHAR_DIFF_LIMIT
    expected = (*same[:20], long_line, *same[20:])
    actual = (*same[:20], long_line + "y", *same[20:])
    page = render_exercise(failing(diff_check(expected, actual)))
    assert marks(side(page, "actual")) == [long_line + "y"]


def test_no_diff_without_values():
    page = render_exercise(failing(Check("events", False, "no values")))
    assert 'class="sse-diff"' not in page


def test_the_chart_shows_when_chunks_arrived():
    timeline = [Chunk(0.01 * i, b"data: x\n\n") for i in range(1, 4)]
    one_row = png_height(render_exercise(failing(timeline=timeline)))
    with_releases = render_exercise(failing(timeline=timeline, released=[0.0, 0.5, 1.0]))
    assert png_height(with_releases) > one_row  # a second row: when the tokens were released
    assert "when each token was released" in with_releases


def test_no_chart_without_a_timeline():
    page = render_exercise(failing(Check("response", False, "no response")))
    assert 'class="sse-timeline"' not in page


def test_a_sparkline_instead_of_an_image():
    timeline = [Chunk(0.0, b"a"), Chunk(0.0, b"b"), Chunk(1.0, b"c")]
    page = render_exercise(failing(timeline=timeline, released=[0.5]), chart_style="sparkline")
    assert "<img" not in page
    found = re.search(r'<pre class="sse-timeline">(.*?)</pre>', page, re.S)
    assert found
    received, released, axis = html.unescape(found.group(1)).splitlines()
    assert received.endswith("|█" + "·" * (chart.SPARK_WIDTH - 2) + "▄|")
    assert released.strip().startswith(chart.RELEASED)
    assert released.count("·") == chart.SPARK_WIDTH - 1
    assert axis.strip().startswith("0 ms") and axis.endswith("1000 ms")


def test_an_unknown_chart_style_is_refused():
    with pytest.raises(ValueError, match="unknown chart style"):
        render_exercise(failing(), chart_style="gif")


def test_a_first_failure_shows_the_nudge_and_folds_the_hint():
    result = failing(Check("events", False, "wrong", nudge="Look at what you yield."))
    page = render_exercise(result)
    assert '<p class="sse-nudge">Look at what you yield.</p>' in page
    assert '<details class="sse-hint"><summary>' in page
    assert "Each SSE message must end with a blank line" in page


def test_the_hint_is_open_once_it_opens_by_itself():
    result = failing(Check("events", False, "wrong"))
    state = HintState(nudge="Look.", hint="The lesson's hint.", failures=3, open=True)
    page = render_exercise(result, state)
    assert '<details class="sse-hint" open><summary>' in page
    assert "failed 3 times in a row" in page


def test_a_passed_exercise_has_no_nudge_and_no_hint():
    page = render_exercise(ExerciseResult("ex1", [Check("body", True, "fine")]))
    assert 'class="sse-nudge"' not in page and 'class="sse-hint"' not in page
    assert '<div class="sse-title sse-pass"><span class="sse-mark">✓</span>' in page


def test_the_scoreboard_has_one_row_per_exercise():
    results = [
        ExerciseResult("ex1", [Check("body", True, "fine")]),
        ExerciseResult("ex2", [Check("events", False, "wrong", nudge="Look <here>.")]),
        ExerciseResult("ex3", [Check("streams", True, "fine")]),
    ]
    page = render_scoreboard(results, [first_time(r) for r in results])
    rows = re.findall(
        r'<tr class="sse-exercise (sse-pass|sse-fail)" data-exercise="(ex\d)">'
        r'<td class="sse-mark">(.)</td>',
        page,
    )
    assert rows == [("sse-pass", "ex1", "✓"), ("sse-fail", "ex2", "✗"), ("sse-pass", "ex3", "✓")]
    assert '<table class="sse-scoreboard"><caption>2/3 points</caption>' in page
    assert "Look &lt;here&gt;." in page
    assert page.count('<div class="sse-feedback" data-exercise="ex2">') == 1  # folded details
    assert 'data-exercise="ex1">' in page and 'class="sse-feedback" data-exercise="ex1"' not in page
