"""The machine-readable report: exactly the public JSON contract of the results."""

from __future__ import annotations

import json

from grader.results import SubmissionResult


def render_json(results: list[SubmissionResult]) -> str:
    """{"submissions": [...]} with each submission as SubmissionResult.to_dict() spells it."""
    document = {"submissions": [result.to_dict() for result in results]}
    return json.dumps(document, indent=2) + "\n"
