"""Saved results are keyed by what was graded: files, grader and options, never by the path's text.

Batches run as instructors run them, ``python -m grader`` in a subprocess, over
small classes written to tmp_path; the fingerprint itself is tested on real
folders holding what a hostile submission could leave there.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from grader.exercises import EXERCISES
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.fingerprint import setup_fingerprint, submission_fingerprint
from grader.results import Check, ExerciseResult, SubmissionResult, to_record
from grader.sandbox import Limits
from tests.grader.helpers import ROOT, grader, make_submission, report, saved

STUB = (ROOT / "exercises" / EX2.filename).read_text(encoding="utf-8")
SETUP = setup_fingerprint(Limits(), EXERCISES)


def batch(klass: Path, results: Path, *extra: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Grade a class into a results folder, as JSON."""
    args = ("--format", "json", "--submissions", str(klass), "--results-dir", str(results))
    return grader(*args, *extra, cwd=cwd)


def scores(done: subprocess.CompletedProcess) -> dict[str, float]:
    """Each submission's score, by the folder's name."""
    return {Path(s["submission"]).name: s["score"] for s in report(done)["submissions"]}


def summary_line(done: subprocess.CompletedProcess) -> str:
    """The last line the run wrote on stderr."""
    assert done.stderr.strip(), "the batch wrote no summary line"
    return done.stderr.strip().splitlines()[-1]


@pytest.fixture
def klass(tmp_path: Path) -> Path:
    """A class of two: ada is right throughout, ben left exercise 2 as the stub."""
    make_submission(tmp_path / "class" / "ada")
    make_submission(tmp_path / "class" / "ben", {EX2: STUB})
    return tmp_path / "class"


# --- a re-run ------------------------------------------------------------------------------


def test_a_changed_file_is_graded_again_and_the_rest_reused(klass: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    first = batch(klass, results)
    assert first.returncode == 1
    assert scores(first) == {"ada": 3, "ben": 2}
    before = saved(results)
    (klass / "ben" / EX2.filename).write_text(
        (ROOT / "solutions" / EX2.filename).read_text(encoding="utf-8"), encoding="utf-8"
    )
    second = batch(klass, results)
    assert second.returncode == 0, second.stderr
    assert scores(second) == {"ada": 3, "ben": 3}
    after = saved(results)
    assert after.keys() == before.keys()
    changed = {name for name in after if after[name] != before[name]}
    assert len(changed) == 1 and "ben" in changed.pop()
    assert "(1 graded, 1 reused from" in summary_line(second)


def test_the_same_files_are_reused_without_grading(klass: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    first = batch(klass, results)
    records = saved(results)
    second = batch(klass, results)
    assert saved(results) == records
    assert report(second) == report(first)
    assert "all reused from" in summary_line(second)


def test_a_file_added_to_a_submission_regrades_it(klass: Path, tmp_path: Path) -> None:
    """The server may import any module of the submission's folder: each one counts."""
    results = tmp_path / "results"
    batch(klass, results)
    before = saved(results)
    (klass / "ada" / "helpers.py").write_text("X = 1\n", encoding="utf-8")
    batch(klass, results)
    after = saved(results)
    assert [name for name in after if after[name] != before[name]] == [
        name for name in after if "ada" in name
    ]


def test_another_spelling_of_the_class_path_finds_the_same_records(
    klass: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    batch(klass.resolve(), results)
    records = saved(results)
    for spelling in ("./class/", "class", f"{tmp_path.name}/../{tmp_path.name}/class/."):
        cwd = tmp_path.parent if spelling.startswith(tmp_path.name) else tmp_path
        again = batch(Path(spelling), results, cwd=cwd)
        assert saved(results) == records, spelling
        assert "all reused from" in summary_line(again), spelling
        labels = [s["submission"] for s in report(again)["submissions"]]
        assert labels == [str(Path(spelling) / name) for name in ("ada", "ben")]


def test_regrade_grades_every_submission_again(klass: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    first = batch(klass, results)
    records = saved(results)
    again = batch(klass, results, "--regrade")
    assert scores(again) == scores(first)  # graded afresh: with inputs of a new seed
    now = saved(results)
    assert len(records) == len(scores(first)), records  # one record per submission
    assert now.keys() == records.keys()
    assert all(now[name] != records[name] for name in now)
    assert "(2 graded)" in summary_line(again)


def test_an_option_that_decides_verdicts_regrades(klass: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    batch(klass, results)
    records = saved(results)
    narrowed = batch(klass, results, "--exercise", EX1.id)
    assert [len(s["exercises"]) for s in report(narrowed)["submissions"]] == [1, 1]
    assert "(2 graded)" in summary_line(narrowed)
    assert saved(results).keys() == records.keys()
    longer = batch(klass, results, "--exercise", EX1.id, "--timeout", "9")
    assert "(2 graded)" in summary_line(longer)


def test_a_record_of_an_older_layout_is_ignored_not_trusted(klass: Path, tmp_path: Path) -> None:
    """An older grader's record, or one forged to pass, holds no matching fingerprint."""
    results = tmp_path / "results"
    batch(klass, results)
    forged = SubmissionResult(
        str(klass / "ben"),
        [ExerciseResult(ex.id, [Check("response", True, "FORGED")]) for ex in EXERCISES],
    )
    for path in results.glob("*ben*.json"):
        path.write_text(json.dumps(to_record(forged)), encoding="utf-8")  # the old layout
    (results / "class_ben-0123abcd.json").write_text("[1, 2", encoding="utf-8")
    again = batch(klass, results)
    assert again.returncode == 1, again.stderr
    assert scores(again) == {"ada": 3, "ben": 2}
    assert "Traceback" not in again.stderr
    assert "(1 graded, 1 reused from" in summary_line(again)


# --- the fingerprint -----------------------------------------------------------------------


def test_a_symbolic_link_counts_as_the_refused_link_it_is(tmp_path: Path) -> None:
    """The sandbox refuses a linked module, whatever it points to: so does the fingerprint."""
    outside = tmp_path / "outside.py"
    outside.write_text("X = 1\n", encoding="utf-8")
    folder = make_submission(tmp_path / "student")
    (folder / "helpers.py").symlink_to(outside)
    first = submission_fingerprint(folder, SETUP)
    outside.write_text("X = 2\n", encoding="utf-8")
    assert submission_fingerprint(folder, SETUP) == first
    (folder / "helpers.py").unlink()
    (folder / "helpers.py").write_text("X = 1\n", encoding="utf-8")
    assert submission_fingerprint(folder, SETUP) not in (first, None)


@pytest.mark.timeout(30)
def test_a_fifo_or_a_link_loop_neither_hangs_nor_fails_the_fingerprint(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "student")
    os.mkfifo(folder / "pipe.py")
    (folder / "loop.py").symlink_to(folder / "loop.py")
    assert submission_fingerprint(folder, SETUP) is not None


def test_what_the_sandbox_is_given_and_the_setup_count_nothing_else(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "student")
    base = submission_fingerprint(folder, SETUP)
    (folder / "notes.txt").write_text("not a module", encoding="utf-8")
    (folder / "sub").mkdir()
    assert submission_fingerprint(folder, SETUP) == base
    (folder / "extra.py").write_bytes(b"")
    with_module = submission_fingerprint(folder, SETUP)
    other_setup = submission_fingerprint(folder, setup_fingerprint(Limits(timeout=3), EXERCISES))
    other_exercises = submission_fingerprint(folder, setup_fingerprint(Limits(), (EX1,)))
    assert len({base, with_module, other_setup, other_exercises}) == 4
    copy = make_submission(tmp_path / "copy")
    assert submission_fingerprint(copy, SETUP) == base


def test_a_folder_that_cannot_be_read_is_never_reused(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "student")
    link = tmp_path / "link"
    link.symlink_to(folder)
    assert submission_fingerprint(tmp_path / "missing", SETUP) is None
    assert submission_fingerprint(link, SETUP) is None
