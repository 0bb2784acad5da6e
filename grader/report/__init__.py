"""Render grading results as a text report, JSON, Gradescope results, JUnit XML or CSV."""

from __future__ import annotations

from collections.abc import Callable

from grader.report.csv_report import render_csv
from grader.report.gradescope import render_gradescope
from grader.report.json_report import render_json
from grader.report.junit import render_junit
from grader.report.text import render_text
from grader.results import SubmissionResult

FORMATS: tuple[str, ...] = ("text", "json", "gradescope", "junit", "csv")

RENDERERS: dict[str, Callable[[list[SubmissionResult]], str]] = {
    "text": render_text,
    "json": render_json,
    "gradescope": render_gradescope,
    "junit": render_junit,
    "csv": render_csv,
}


def render(results: list[SubmissionResult], fmt: str, *, color: bool = False) -> str:
    """The report in one of FORMATS; colour applies to the text format only."""
    if fmt not in RENDERERS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "text":
        return render_text(results, color=color)
    return RENDERERS[fmt](results)
