"""The reference solution of exercise 6 streams its CSV export one row at a time.

First the solution's own behaviour, through TestClient: what csv.writer writes
for its rows, one chunk per row, for the module's rows and for others put in
their place. Then the grader's verdict on it: in-process, where its memory
cannot be measured and the check says so, and in the real sandbox twenty times
in a row, each grading drawing a fresh export of 200 MiB or more from a fresh seed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from grader.exercises import exercise
from grader.runner import grade_in_process
from grader.sandbox import Limits
from grader.settings import TIMEOUT
from solutions import ex6_stream_csv_export as solution
from tests.grader.helpers import passes_with_fresh_inputs

ROOT = Path(__file__).resolve().parents[2]
EX6 = exercise("ex6")
CHECKS = ["response", "content-type", "rows", "memory"]
RUNS = 20
# The default timeout: a fresh export of 200 MiB or more may take three of them on a busy machine.
LIMITS = Limits(timeout=TIMEOUT.default)
OTHER_ROWS = [("sku", "label"), ("A-1", 'say "hi", then go'), ("B-2", "déjà\nvu"), ("C-3", "")]

client = TestClient(solution.app)


def other_rows() -> Iterator[tuple[str, ...]]:
    yield from OTHER_ROWS


@pytest.fixture(params=["module", "other"])
def rows(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The module's rows, then others put in place of ``rows``, which the export must follow."""
    if request.param == "other":
        monkeypatch.setattr(solution, "rows", other_rows)
    return list(solution.rows())


def as_csv(rows: list[tuple]) -> list[bytes]:
    """Each row as csv.writer writes it, in UTF-8."""
    lines = []
    for row in rows:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(row)
        lines.append(buffer.getvalue().encode())
    return lines


def test_the_body_is_what_csv_writer_writes_one_chunk_per_row(rows: list[tuple]) -> None:
    with client.stream("GET", "/export.csv") as response:
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert list(response.iter_raw()) == as_csv(rows)


def test_the_grader_passes_it_in_process_except_the_memory_it_cannot_measure() -> None:
    result = grade_in_process(ROOT / "solutions", EX6, TIMEOUT.default)
    assert [check.name for check in result.checks] == CHECKS
    assert [check.name for check in result.failures()] == ["memory"]
    assert "could not be measured" in result.failures()[0].message


def test_the_sandbox_passes_it_twenty_times_with_fresh_inputs() -> None:
    passes_with_fresh_inputs(ROOT / "solutions", EX6, LIMITS, RUNS, CHECKS)
