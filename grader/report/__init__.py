"""Render grading results as a text report, JSON, Gradescope results, JUnit XML or CSV."""

from __future__ import annotations

import importlib

from grader.results import SubmissionResult

FORMATS: tuple[str, ...] = ("text", "json", "gradescope", "junit", "csv")

# format -> (module, function); a renderer is imported only when its format is asked for,
# which keeps the grader's start-up short.
RENDERERS: dict[str, tuple[str, str]] = {
    "text": ("grader.report.text", "render_text"),
    "json": ("grader.report.json_report", "render_json"),
    "gradescope": ("grader.report.gradescope", "render_gradescope"),
    "junit": ("grader.report.junit", "render_junit"),
    "csv": ("grader.report.csv_report", "render_csv"),
}


def render(results: list[SubmissionResult], fmt: str, *, color: bool = False) -> str:
    """The report in one of FORMATS; colour applies to the text format only."""
    if fmt not in RENDERERS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    module, function = RENDERERS[fmt]
    renderer = getattr(importlib.import_module(module), function)
    return renderer(results, color=color) if fmt == "text" else renderer(results)
