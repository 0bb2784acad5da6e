"""The rich report: one exercise, or a scoreboard of several, as an HTML fragment.

Built on the same results as every other report. Used by the notebook's
``check()`` and by the Gradescope report. Everything a submission could have
influenced (check names, messages, received data) is HTML-escaped, so a message
holding ``<script>`` shows as text.

Stable markers (the browser test and the notebook contract rely on them): root
``div.sse-feedback[data-exercise]``; one ``tr.sse-check.sse-pass`` or
``tr.sse-check.sse-fail`` per check whose first cell holds ✓ or ✗;
``div.sse-diff`` with the differences in ``<mark>``; ``img.sse-timeline`` (or
``pre.sse-timeline`` for a text sparkline); ``p.sse-nudge``; ``details.sse-hint``
(``open`` once the hint opens by itself); ``table.sse-scoreboard``.
"""

from __future__ import annotations

import base64
import difflib
import html
from collections.abc import Sequence

from grader.hints import HintState, first_time
from grader.report import chart
from grader.report.timeline import timeline_table
from grader.report.untrusted import escape
from grader.report.wording import fraction, graded_checks, title, visible
from grader.results import Check, ExerciseResult
from grader.settings import OPEN_AFTER

PASS_MARK, FAIL_MARK = "✓", "✗"
CHARTS = ("png", "sparkline", "none")
# Past this many characters a side, differences are marked line by line, not character by
# character: difflib's character matching grows with the square of the length.
CHAR_DIFF_LIMIT = 4000
# JupyterLab right-aligns the cells of HTML outputs with a two-class selector; the
# `.jp-RenderedHTMLCommon .sse-feedback` rule matches it and, coming later, wins.
STYLE = """<style>
.sse-feedback{font-family:var(--jp-content-font-family,sans-serif);font-size:13px;line-height:1.4}
.sse-feedback table{border-collapse:collapse;margin:4px 0}
.sse-feedback td,.sse-feedback th,.jp-RenderedHTMLCommon .sse-feedback td,
.jp-RenderedHTMLCommon .sse-feedback th{padding:2px 8px;text-align:left;vertical-align:top}
.sse-feedback .sse-pass .sse-mark{color:#1a7f37;font-weight:bold}
.sse-feedback .sse-fail .sse-mark{color:#cf222e;font-weight:bold}
.sse-feedback .sse-name{white-space:nowrap;font-weight:600}
.sse-feedback .sse-message{white-space:pre-wrap}
.sse-feedback .sse-diff{display:flex;gap:12px;margin:6px 0}
.sse-feedback .sse-diff>div{flex:1;min-width:0}
.sse-feedback .sse-diff pre{white-space:pre-wrap;word-break:break-all;margin:2px 0;padding:6px;
background:var(--jp-layout-color2,#f6f8fa);border-radius:4px}
.sse-feedback .sse-expected mark{background:#abf2bc}
.sse-feedback .sse-actual mark{background:#ffb8b8}
.sse-feedback .sse-nudge{margin:6px 0;padding:4px 8px;border-left:3px solid #d29922}
.sse-feedback details.sse-hint summary{cursor:pointer}
</style>"""


def escaped(text: str) -> str:
    """Untrusted text, made safe for HTML: control characters spelled out, markup escaped."""
    return html.escape(visible(text), quote=True)


def check_row(check: Check) -> str:
    """One check as a table row: ✓ or ✗, its name, its message."""
    state, mark = ("sse-pass", PASS_MARK) if check.passed else ("sse-fail", FAIL_MARK)
    return (
        f'<tr class="sse-check {state}"><td class="sse-mark">{mark}</td>'
        f'<td class="sse-name">{escaped(check.name)}</td>'
        f'<td class="sse-message">{escaped(check.message)}</td></tr>'
    )


def shown(value: str) -> str:
    """One expected or received value as the diff shows it: line breaks and tabs spelled out.

    Not cut: the checks keep their values short (grader/checks.py).
    """
    return escape(value.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t"))


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    """The text, escaped, with each (start, end) span wrapped in <mark>."""
    parts, at = [], 0
    for start, end in spans:
        parts.append(html.escape(text[at:start]))
        parts.append(f"<mark>{html.escape(text[start:end])}</mark>")
        at = end
    parts.append(html.escape(text[at:]))
    return "".join(parts)


def _spans(expected: str, actual: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Where the two texts differ: spans in the expected text, spans in the received one."""
    matcher = difflib.SequenceMatcher(None, expected, actual, autojunk=False)
    left, right = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            left.append((i1, i2))
        if j2 > j1:
            right.append((j1, j2))
    return left, right


def _line_spans(lines: list[str], differing: set[int]) -> list[tuple[int, int]]:
    """Spans covering whole lines of a newline-joined text."""
    spans, at = [], 0
    for index, line in enumerate(lines):
        if index in differing and line:
            spans.append((at, at + len(line)))
        at += len(line) + 1
    return spans


def _line_diff(
    expected: list[str], actual: list[str]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Whole differing lines as spans, for texts too long to compare character by character."""
    matcher = difflib.SequenceMatcher(None, expected, actual, autojunk=False)
    left: set[int] = set()
    right: set[int] = set()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            left.update(range(i1, i2))
            right.update(range(j1, j2))
    return _line_spans(expected, left), _line_spans(actual, right)


def diff_block(check: Check) -> str:
    """Expected and received side by side, the differences highlighted."""
    expected = [shown(item) for item in check.expected]
    actual = [shown(item) for item in check.actual]
    left_text, right_text = "\n".join(expected), "\n".join(actual)
    if max(len(left_text), len(right_text)) <= CHAR_DIFF_LIMIT:
        left, right = _spans(left_text, right_text)
    else:
        left, right = _line_diff(expected, actual)
    return (
        f'<div class="sse-diff" data-check="{escaped(check.name)}">'
        f'<div class="sse-expected"><b>{escaped(check.name)}: expected</b>'
        f"<pre>{_marked(left_text, left)}</pre></div>"
        f'<div class="sse-actual"><b>received</b><pre>{_marked(right_text, right)}</pre></div>'
        "</div>"
    )


def timeline_block(result: ExerciseResult, style: str) -> str:
    """The timeline as an inline PNG, a text sparkline, or nothing."""
    if style == "png":
        try:
            png = chart.timeline_png(result)
        except ImportError:  # matplotlib is missing: the same timeline as text
            return timeline_block(result, "sparkline")
        if png is None:
            return ""
        alt = (
            "when each chunk arrived"
            + (" and when each token was released" if result.released else "")
            + (" and when each connection opened" if result.reconnects else "")
        )
        data = base64.b64encode(png).decode("ascii")
        return f'<img class="sse-timeline" alt="{alt}" src="data:image/png;base64,{data}">'
    lines = chart.sparkline(result) if style == "sparkline" else []
    return f'<pre class="sse-timeline">{html.escape(chr(10).join(lines))}</pre>' if lines else ""


def hint_block(hints: HintState) -> str:
    """The nudge, then the lesson's full hint folded away (open once it opens by itself)."""
    if not hints.failed:
        return ""
    opened = " open" if hints.open else ""
    when = (
        f"failed {hints.failures} times in a row"
        if hints.open
        else f"click to show; it opens by itself after {OPEN_AFTER} failures of the same check"
    )
    return (
        f'<p class="sse-nudge">{escaped(hints.nudge)}</p>'
        f'<details class="sse-hint"{opened}><summary>The lesson\'s hint ({when})</summary>'
        f"<p>{escaped(hints.hint)}</p></details>"
    )


def heading(result: ExerciseResult) -> str:
    """The exercise, its verdict and its score."""
    state, mark = ("sse-pass", PASS_MARK) if result.passed else ("sse-fail", FAIL_MARK)
    verdict = "passed" if result.passed else "failed"
    return (
        f'<div class="sse-title {state}"><span class="sse-mark">{mark}</span> '
        f"<b>{escaped(result.id)}</b> {escaped(title(result.id))}: {verdict}, "
        f"{fraction(result.score, result.max_score)} points</div>"
    )


def exercise_body(result: ExerciseResult, hints: HintState, chart_style: str) -> str:
    """Everything about one exercise, below its heading."""
    checks = graded_checks(result)
    parts = [f'<table class="sse-checks">{"".join(check_row(c) for c in checks)}</table>']
    parts.append(hint_block(hints))
    parts += [diff_block(c) for c in checks if not c.passed and (c.expected or c.actual)]
    parts.append(timeline_block(result, chart_style))
    if not result.passed and result.timeline:
        table = html.escape(
            "\n".join(timeline_table(result.timeline, result.omitted, result.reconnects))
        )
        parts.append(
            '<details class="sse-chunks"><summary>What the client received, chunk by chunk'
            f"</summary><pre>{table}</pre></details>"
        )
    if result.advice:
        items = "".join(f"<li>{escaped(advice)}</li>" for advice in result.advice)
        parts.append(f'<p>Advice (not scored):</p><ul class="sse-advice">{items}</ul>')
    return "".join(parts)


def render_exercise(
    result: ExerciseResult,
    hints: HintState | None = None,
    *,
    chart_style: str = "png",
    style: bool = True,
) -> str:
    """One exercise as an HTML fragment.

    ``hints`` defaults to a first failure (nudge only, the full hint folded);
    ``chart_style`` is one of CHARTS; ``style`` adds the fragment's own CSS.
    """
    if chart_style not in CHARTS:
        raise ValueError(f"unknown chart style {chart_style!r}; expected one of {CHARTS}")
    state = hints if hints is not None else first_time(result)
    return (
        f'<div class="sse-feedback" data-exercise="{escaped(result.id)}">'
        f"{STYLE if style else ''}{heading(result)}"
        f"{exercise_body(result, state, chart_style)}</div>"
    )


def scoreboard_row(result: ExerciseResult, hints: HintState) -> str:
    """One exercise in the scoreboard: ✓ or ✗, id, title, points, where to look."""
    state, mark = ("sse-pass", PASS_MARK) if result.passed else ("sse-fail", FAIL_MARK)
    failures = result.failures()
    what = f"{escaped(failures[0].name)}: {escaped(hints.nudge)}" if failures else ""
    return (
        f'<tr class="sse-exercise {state}" data-exercise="{escaped(result.id)}">'
        f'<td class="sse-mark">{mark}</td><td class="sse-name">{escaped(result.id)}</td>'
        f"<td>{escaped(title(result.id))}</td>"
        f"<td>{fraction(result.score, result.max_score)}</td><td>{what}</td></tr>"
    )


def render_scoreboard(
    results: Sequence[ExerciseResult], hints: Sequence[HintState] | None = None
) -> str:
    """Several exercises as a compact scoreboard, each failed one's feedback folded below."""
    states = list(hints) if hints is not None else [first_time(r) for r in results]
    rows = "".join(scoreboard_row(r, h) for r, h in zip(results, states, strict=True))
    score = fraction(sum(r.score for r in results), sum(r.max_score for r in results))
    folded = "".join(
        f"<details><summary>{escaped(r.id)}: what went wrong</summary>"
        f"{render_exercise(r, h, style=False)}</details>"
        for r, h in zip(results, states, strict=True)
        if not r.passed
    )
    return (
        f'<div class="sse-feedback" data-exercise="all">{STYLE}'
        f'<table class="sse-scoreboard"><caption>{score} points</caption>{rows}</table>'
        f"{folded}</div>"
    )
