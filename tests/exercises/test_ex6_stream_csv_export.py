"""The stub of exercise 6 sends the right CSV, and makes the mistake the exercise teaches.

It writes the whole export into one buffer before it answers: through
TestClient the body is what csv.writer writes, but in a single chunk however
many rows there are, and graded in the real sandbox on an export of 200 MiB or
more, its memory grows with the export and the memory check fails on it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from exercises import ex6_stream_csv_export as stub
from grader.exercises import exercise
from grader.runner import grade_submission
from grader.sandbox import Limits
from grader.settings import TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
EX6 = exercise("ex6")
ROWS = 500


def many_rows() -> Iterator[tuple]:
    yield ("id", "customer")
    for number in range(1, ROWS + 1):
        yield (number, f"Dupont, Marie #{number}")


def test_the_stub_sends_the_csv_of_its_rows_in_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stub, "rows", many_rows)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(many_rows())
    with TestClient(stub.app).stream("GET", "/export.csv") as response:
        assert response.headers["content-type"].startswith("text/csv")
        chunks = list(response.iter_raw())
    assert chunks == [buffer.getvalue().encode()]


def test_the_sandbox_finds_it_holding_the_whole_export() -> None:
    result = grade_submission(ROOT / "exercises", Limits(timeout=TIMEOUT.default), exercises=(EX6,))
    failed = {check.name: check.message for check in result.exercise(EX6.id).failures()}
    assert "memory" in failed, failed
    assert set(failed) <= {"response", "memory"}  # a big enough export may kill it first
    assert "not streamed in constant memory" in failed["memory"]
