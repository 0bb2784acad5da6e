"""Render grading results as a text report, JSON, Gradescope results, JUnit XML or CSV."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from grader.results import SubmissionResult

FORMATS: tuple[str, ...] = (
    "text",
    "json",
    "gradescope",
    "junit",
    "csv",
    "markdown",
    "prairielearn",
)

# format -> (module, function); a renderer is imported only when its format is asked for,
# which keeps the grader's start-up short.
RENDERERS: dict[str, tuple[str, str]] = {
    "text": ("grader.report.text", "render_text"),
    "json": ("grader.report.json_report", "render_json"),
    "gradescope": ("grader.report.gradescope", "render_gradescope"),
    "junit": ("grader.report.junit", "render_junit"),
    "csv": ("grader.report.csv_report", "render_csv"),
    "markdown": ("grader.report.markdown", "render_markdown"),
    "prairielearn": ("grader.report.prairielearn", "render_prairielearn"),
}


def render(results: list[SubmissionResult], fmt: str, *, color: bool = False) -> str:
    """The report in one of FORMATS; colour applies to the text format only."""
    if fmt not in RENDERERS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    module, function = RENDERERS[fmt]
    renderer = getattr(importlib.import_module(module), function)
    return renderer(results, color=color) if fmt == "text" else renderer(results)


def submission_names(folders: list[Path]) -> list[str]:
    """A distinct folder name per submission: its own folder's name, numbered when two clash."""
    names: list[str] = []
    taken: set[str] = set()
    for folder in folders:
        base = Path(os.path.realpath(folder)).name.lstrip(".") or "submission"
        name, number = base, 1
        while name in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name)
        names.append(name)
    return names


def write_gradescope_folders(
    results: list[SubmissionResult], names: list[str], output: Path
) -> None:
    """Gradescope's results.json for each submission, as ``output/<name>/results.json``."""
    for result, name in zip(results, names, strict=True):
        target = output / name / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render([result], "gradescope"), encoding="utf-8")
