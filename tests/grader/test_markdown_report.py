"""The Markdown report: a table per submission, failures folded, nothing a submission can inject."""

from __future__ import annotations

import re

from grader.exercises import EXERCISES
from grader.report import render
from grader.report.markdown import MAX_DETAIL_CHARS, inline
from grader.results import Check, Chunk, ExerciseResult, SubmissionResult

HOSTILE = "<script>alert(1)</script> | ![x](https://evil.example/x.png) [link](https://e.x) **b**"


def submission(label: str, failed_message: str) -> SubmissionResult:
    """ex1 passes, the other exercises fail with the given message."""
    exercises = [ExerciseResult(EXERCISES[0].id, [Check("response", True, "")])]
    exercises += [
        ExerciseResult(
            ex.id,
            [Check("events", False, failed_message)],
            timeline=[Chunk(0.001, b"data: x\n\n")],
        )
        for ex in EXERCISES[1:]
    ]
    return SubmissionResult(label, exercises)


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every table body row."""
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("| ex") and not line.startswith("| exercise")
    ]


def test_one_row_per_exercise_with_verdict_and_points():
    markdown = render([submission("alice", "no events")], "markdown")
    rows = table_rows(markdown)
    assert [row[0] for row in rows] == [ex.id for ex in EXERCISES]
    assert "passed" in rows[0][2] and rows[0][3] == "1/1"
    assert all("failed" in row[2] and row[3] == "0/1" for row in rows[1:])
    assert markdown.count("<details>") == len(EXERCISES) - 1


def test_submission_text_cannot_inject_markup():
    markdown = render([submission(HOSTILE, HOSTILE)], "markdown")
    assert "<script>" not in markdown
    # Inside a <pre> block (a GFM HTML block, which ends only at "</pre>") nothing is
    # rendered, and escaping keeps a submission from writing "</pre>" itself.
    blocks = re.findall(r"^<pre>(.*?)</pre>$", markdown, re.S | re.M)
    assert blocks and all("</pre" not in block and "<" not in block for block in blocks)
    rendered = re.sub(r"^<pre>.*?</pre>$", "", markdown, flags=re.S | re.M)
    assert "![x](" not in rendered and "[link](" not in rendered and "**b**" not in rendered
    heading = next(line for line in markdown.splitlines() if line.startswith("### "))
    assert "|" not in heading
    for row in table_rows(markdown):
        assert len(row) == 4  # no cell was split by a submission's "|"


def test_inline_spells_every_markup_character_as_an_entity():
    assert re.fullmatch(r"[a-z ]*(&#\d+;[a-z ]*)*", inline("a <b> | `c` *d*"))
    assert inline("line one\nline two") == "line one line two"


def test_details_are_clipped():
    markdown = render([submission("bob", "x" * (10 * MAX_DETAIL_CHARS))], "markdown")
    for block in re.findall(r"<pre>(.*?)</pre>", markdown, re.S):
        assert len(block) < MAX_DETAIL_CHARS + 200
