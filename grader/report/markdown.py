"""GitHub-flavoured Markdown for a CI job summary or a release body.

GitHub Actions shows what a step appends to the file named by ``$GITHUB_STEP_SUMMARY``
on the run's summary page, as GitHub-flavoured Markdown, and keeps at most 1 MiB of
it per step ("Workflow commands for GitHub Actions", section "Adding a job summary",
docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands).
One table row per exercise, then the failed checks of each exercise that failed.

Everything that came from a submission (messages, advice, the chunk timeline) is
HTML-escaped inside ``<pre>`` blocks, where Markdown is not interpreted, and clipped,
so that no submission can inject markup, links or images, or push the summary past
GitHub's limit.
"""

from __future__ import annotations

import html
import re

from grader.report.text import NOTHING_GRADED, Style, exercise_lines
from grader.report.wording import fraction, title, visible
from grader.results import ExerciseResult, SubmissionResult

# Per failed exercise; three exercises of a few submissions stay far below 1 MiB.
MAX_DETAIL_CHARS = 8_000
MAX_SUBMISSIONS_IN_DETAIL = 50
# Characters that mean something to Markdown or HTML in a table cell or a heading.
MARKUP = re.compile(r"[\\`*_{}\[\]()<>#+!|&~\"']")
PASS_MARK = "✅ passed"
FAIL_MARK = "❌ failed"


def inline(text: str) -> str:
    """Untrusted text as literal Markdown inline content: every markup character an entity."""
    one_line = " ".join(visible(text).split())
    return MARKUP.sub(lambda match: f"&#{ord(match.group())};", one_line)


def preformatted(text: str) -> str:
    """Untrusted text as a literal <pre> block, clipped to MAX_DETAIL_CHARS."""
    if len(text) > MAX_DETAIL_CHARS:
        hidden = len(text) - MAX_DETAIL_CHARS
        text = f"{text[:MAX_DETAIL_CHARS]}\n... ({hidden} more characters not shown)"
    return f"<pre>{html.escape(text)}</pre>"


def exercise_row(result: ExerciseResult) -> str:
    """One row of the table: exercise, title, verdict and points."""
    verdict = PASS_MARK if result.passed else FAIL_MARK
    score = fraction(result.score, result.max_score)
    return f"| {inline(result.id)} | {inline(title(result.id))} | {verdict} | {score} |"


def failure_details(result: ExerciseResult) -> list[str]:
    """A folded section with what went wrong, exactly as the text report words it."""
    body = "\n".join(exercise_lines(result, Style(color=False)))
    summary = f"{inline(result.id)}: what went wrong"
    return ["<details>", f"<summary>{summary}</summary>", "", preformatted(body), "</details>"]


def submission_section(result: SubmissionResult, with_details: bool) -> list[str]:
    """Heading, score, the exercise table and, when asked, each failure's details."""
    score = fraction(result.score, result.max_score)
    lines = [f"### {inline(result.submission)}: {score} points", ""]
    lines += ["| exercise | title | result | points |", "|---|---|---|---|"]
    lines += [exercise_row(exercise_result) for exercise_result in result.exercises]
    lines.append("")
    if with_details:
        for exercise_result in result.exercises:
            if not exercise_result.passed:
                lines += [*failure_details(exercise_result), ""]
    lines += [f"> {inline(note)}" for note in result.notes]
    return lines


def render_markdown(results: list[SubmissionResult]) -> str:
    """The Markdown report: one section per submission (details for the first 50)."""
    if not results:
        return NOTHING_GRADED + "\n"
    passed = sum(result.passed for result in results)
    lines = [f"## Lesson 3 grading: {passed} of {len(results)} submissions passed", ""]
    for number, result in enumerate(results):
        lines += submission_section(result, number < MAX_SUBMISSIONS_IN_DETAIL)
    return "\n".join(lines).rstrip("\n") + "\n"
