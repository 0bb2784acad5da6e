"""Exercise 6's verdicts on its corpus: each typical mistake fails the check that names it.

Every folder ``tests/corpus/wrong/ex6_*`` and ``tests/corpus/right/ex6_*`` holds
one module and an ``expected.json`` (the layout ``test_corpus.py`` describes):
a wrong case names the checks that must fail, those that may fail too
(``may_fail``: a body held whole may kill the server before it is sent) and
words their messages must hold, a right case (another way to stream the same
CSV) must pass every check. Each is graded in the real sandbox, its memory
measured from outside, as a class is.

Then the parts of the check that need no sandbox: the grader's own CSV is what
csv.writer writes, a difference is found at its byte and named, and without a
gauge the memory check fails saying so.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
from pathlib import Path

import pytest

from grader.exercises import exercise
from grader.exercises.ex6_stream_csv_export import (
    EXPORT_BYTES,
    MEMORY_LIMIT,
    ExportPlan,
    _Comparison,
    draw_plan,
)
from grader.grading import Target, grade
from grader.memory import ProcessMemory, sandbox_gauge
from grader.probe import encode_inputs
from grader.results import TIMELINE_BYTES, ExerciseResult
from grader.runner import grade_in_process
from grader.sandbox import Limits
from grader.settings import TIMEOUT
from tests.grader.helpers import case_spec, corpus_cases, failed_checks, graded_alone, serving

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
EX6 = exercise("ex6")
LIMITS = Limits(timeout=TIMEOUT.default)  # the export may take three of them on a busy machine
CHECKS = ["response", "content-type", "rows", "memory"]
SEEDS = range(5)
MAX_HEADER = 4096  # bytes: far below what any HTTP server accepts in one header


@functools.cache
def graded(folder: Path) -> ExerciseResult:
    """The case graded in its own sandbox."""
    return graded_alone(folder, EX6, LIMITS)


def checked(result: ExerciseResult) -> dict[str, str]:
    """Each check's name -> its message."""
    return {check.name: check.message for check in result.checks}


def test_the_corpus_has_the_typical_mistakes_and_other_right_ways() -> None:
    assert len(corpus_cases(EX6, "wrong")) >= 4 and len(corpus_cases(EX6, "right")) >= 3
    failing = {name for folder in corpus_cases(EX6, "wrong") for name in case_spec(folder)["fails"]}
    assert failing == set(CHECKS)


@pytest.mark.parametrize("folder", corpus_cases(EX6, "wrong"), ids=lambda folder: folder.name)
def test_a_wrong_answer_fails_the_check_that_names_its_mistake(folder: Path) -> None:
    spec = case_spec(folder)
    assert spec["exercise"] == EX6.id
    assert (folder / EX6.filename).read_text(encoding="utf-8").startswith('"""')
    result = graded(folder)
    failed = failed_checks(result)
    # "may_fail": checks a case may fail too, as when the server runs out of memory first.
    assert set(spec["fails"]) <= set(failed) <= {*spec["fails"], *spec.get("may_fail", ())}
    assert result.score == 0
    for name, fragments in spec.get("message_contains", {}).items():
        for fragment in fragments if name in failed else ():
            assert fragment in failed[name], f"{fragment!r} not in: {failed[name]}"


@pytest.mark.parametrize("folder", corpus_cases(EX6, "right"), ids=lambda folder: folder.name)
def test_a_right_way_passes_every_check(folder: Path) -> None:
    assert case_spec(folder) == {"exercise": EX6.id, "passes": True}
    result = graded(folder)
    assert result.failures() == []
    assert [check.name for check in result.checks] == CHECKS


def test_a_body_built_first_fails_with_its_peak_beside_the_limit() -> None:
    result = graded(CORPUS / "wrong" / "ex6_list_then_join")
    memory = next(check for check in result.checks if check.name == "memory")
    assert not memory.passed
    growth = float(memory.actual[0].split()[1])  # "growth 633.4 MiB (peak ...)"
    assert growth > 2 * EXPORT_BYTES[0] / (1 << 20)  # the joined text, and its bytes
    assert f"{MEMORY_LIMIT >> 20:.1f} MiB allowed" in memory.message
    assert "measured from outside the sandbox" in memory.details


def test_a_streamed_export_is_hundreds_of_mib_and_its_timeline_stays_small() -> None:
    result = graded(CORPUS / "right" / "ex6_async_generator")
    kept = sum(len(chunk.data) for chunk in result.timeline)
    assert kept + result.omitted.bytes >= EXPORT_BYTES[0]
    assert kept <= TIMELINE_BYTES
    assert result.omitted.chunks > 1000


# --- without a sandbox ----------------------------------------------------------------


def written_by_csv(plan: ExportPlan) -> bytes:
    """The plan's rows as csv.writer writes them, in UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(plan.generate())
    return buffer.getvalue().encode()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_grader_s_own_csv_is_what_csv_writer_writes(seed: int) -> None:
    plan = draw_plan(seed, measured=False)
    assert b"".join(plan.lines()) == written_by_csv(plan)
    names = "".join(plan.names)
    assert all(mark in names for mark in (",", '"', "\n"))
    assert not names.isascii()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_plan_crosses_the_inputs_header_whole(seed: int) -> None:
    plan = draw_plan(seed, measured=True)
    assert ExportPlan.from_inputs(list(plan.to_inputs())) == plan
    assert len(encode_inputs(plan.to_inputs())) < MAX_HEADER  # the parameters, not the rows
    assert ExportPlan.from_inputs(["not json"]) is None
    assert EXPORT_BYTES[0] <= sum(map(len, plan.lines())) <= EXPORT_BYTES[1] + 2 * (1 << 20)


def test_fresh_seeds_draw_other_rows() -> None:
    plans = [draw_plan(seed, measured=True) for seed in SEEDS]
    assert len({(plan.rows, plan.names, plan.note) for plan in plans}) == len(plans)


def test_in_process_the_memory_check_says_it_could_not_measure() -> None:
    result = grade_in_process(ROOT / "solutions", EX6, timeout=TIMEOUT.default)
    messages = checked(result)
    assert list(messages) == CHECKS
    assert [check.name for check in result.failures()] == ["memory"]
    assert "could not be measured" in messages["memory"]
    assert "in-process" in messages["memory"]


def compared(plan: ExportPlan, body: bytes, sizes: tuple[int, ...]) -> _Comparison:
    """``body`` fed to a comparison with the plan's rows in chunks of the given sizes, in turn."""
    comparison = _Comparison(plan.lines(), plan.rows)
    start, turn = 0, 0
    while start < len(body):
        size = sizes[turn % len(sizes)]
        comparison.feed(body[start : start + size])
        start, turn = start + size, turn + 1
    comparison.finish(complete=True)
    return comparison


@pytest.mark.parametrize("sizes", [(1,), (7, 4096), (65536,), (10**9,)])
def test_the_right_body_in_any_chunks_compares_equal(sizes: tuple[int, ...]) -> None:
    plan = dataclasses.replace(draw_plan(1, measured=False), rows=40)
    assert compared(plan, written_by_csv(plan), sizes).problem is None


@pytest.mark.parametrize("sizes", [(1,), (7, 4096), (10**9,)])
def test_a_difference_is_named_at_its_byte_and_row(sizes: tuple[int, ...]) -> None:
    plan = dataclasses.replace(draw_plan(2, measured=False), rows=40)
    body = bytearray(written_by_csv(plan))
    third = b"".join(list(plan.lines())[:3])  # the header and rows 1 and 2
    at = len(third) + 5
    body[at : at + 1] = b"\n" if body[at : at + 1] != b"\n" else b"x"
    comparison = compared(plan, bytes(body), sizes)
    assert comparison.problem is not None
    assert f"at byte {at:,}, in row 3 of 40, 5 bytes into it" in comparison.problem


def test_a_body_cut_short_or_going_on_is_named() -> None:
    plan = dataclasses.replace(draw_plan(3, measured=False), rows=40)
    body = written_by_csv(plan)
    last = list(plan.lines())[-1]
    short = compared(plan, body[: -len(last)], (4096,))
    assert short.problem is not None
    assert "with 39 of the 40 rows after the header received whole" in short.problem
    cut = compared(plan, body[: -len(last) - 10], (4096,))
    assert cut.problem is not None and "with 38 of the 40 rows" in cut.problem
    longer = compared(plan, body + b"1,again\r\n", (4096,))
    assert longer.overflowed
    assert longer.problem is not None and "goes on after the last row" in longer.problem


@pytest.mark.parametrize(
    ("folder", "passes"),
    [(ROOT / "solutions", True), (CORPUS / "wrong" / "ex6_list_then_join", False)],
    ids=["streamed", "joined first"],
)
def test_without_a_cgroup_the_server_s_proc_entry_measures_it(folder: Path, passes: bool) -> None:
    with serving(folder, (EX6,), LIMITS) as box:
        assert box.wait_ready() == {}
        pid = box.server_pid()
        gauge = sandbox_gauge(None, pid)  # as on a machine that gives no cgroup
        if gauge is None:
            pytest.skip("this machine lets the grader read neither cgroup nor /proc/<pid>")
        assert isinstance(gauge, ProcessMemory)
        target = Target(box.client(EX6), LIMITS.timeout, box.explain, server_pid=pid, memory=gauge)
        result = grade(EX6, target)
    memory = next(check for check in result.checks if check.name == "memory")
    assert memory.passed is passes, memory.message
    assert result.passed is passes
    assert "/proc/" in memory.details
