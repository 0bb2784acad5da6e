"""A result keeps a bounded timeline and a bounded record, whatever a response held."""

from __future__ import annotations

import json

from grader.report import render
from grader.results import (
    MAX_RECORD_BYTES,
    TIMELINE_BYTES,
    TIMELINE_CHUNKS,
    Check,
    Chunk,
    ExerciseResult,
    Omitted,
    SubmissionResult,
    from_record,
    to_record,
)

FLOOD = 1 << 20  # one-byte chunks, as a hostile endpoint may send them


def flooded() -> ExerciseResult:
    """A failed exercise whose response was a megabyte of one-byte chunks."""
    chunks = [Chunk(i / 1e6, b"x") for i in range(FLOOD)]
    return ExerciseResult("ex1", [Check("chunks", False, "too many")], timeline=chunks)


def test_a_flood_of_chunks_keeps_the_first_and_counts_the_rest():
    result = flooded()
    assert len(result.timeline) == TIMELINE_CHUNKS
    assert result.omitted == Omitted(
        FLOOD - TIMELINE_CHUNKS, FLOOD - TIMELINE_CHUNKS, (FLOOD - 1) / 1e6
    )


def test_big_chunks_are_kept_up_to_the_byte_budget():
    big = [Chunk(i, b"y" * (TIMELINE_BYTES // 3)) for i in range(5)]
    result = ExerciseResult("ex1", timeline=big)
    assert [c.data for c in result.timeline] == [c.data for c in big[:3]]
    assert result.omitted.chunks == 2
    assert result.omitted.bytes == 2 * (TIMELINE_BYTES // 3)


def test_a_short_timeline_is_kept_whole():
    chunks = [Chunk(0.1, b"alpha\n"), Chunk(0.2, b"beta\n")]
    result = ExerciseResult("ex1", timeline=list(chunks))
    assert result.timeline == chunks
    assert result.omitted == Omitted()


def test_the_record_of_a_flood_is_small_and_comes_back_with_its_totals():
    result = SubmissionResult("class/flood", [flooded()])
    record = to_record(result)
    assert len(json.dumps(record)) < 64 * 1024
    back = from_record(json.loads(json.dumps(record)))
    assert back.exercises[0].omitted == result.exercises[0].omitted
    assert back.exercises[0].timeline == result.exercises[0].timeline


def test_the_text_report_states_what_the_timeline_left_out():
    out = render([SubmissionResult("class/flood", [flooded()])], "text")
    assert f"and {FLOOD - 20:,} more chunks, {FLOOD - 20:,} bytes" in out
    assert len(out) < 10_000


def test_a_record_full_of_long_texts_is_capped():
    huge = "z" * (4 * MAX_RECORD_BYTES)
    check = Check("body", False, huge, details=huge, expected=(huge,), actual=tuple("a" * 10_000))
    big_chunks = [Chunk(0.001, b"q" * (TIMELINE_BYTES // 2))]
    exercise = ExerciseResult("ex1", [check], advice=[huge] * 3, timeline=big_chunks)
    record = to_record(SubmissionResult("class/huge", [exercise], notes=[huge]))
    assert len(json.dumps(record).encode()) <= MAX_RECORD_BYTES
    back = from_record(record)
    assert back.exercises[0].timeline == []
    assert back.exercises[0].omitted.bytes == TIMELINE_BYTES // 2
    assert back.exercises[0].checks[0].message.endswith("more characters)")
    assert back.exercises[0].passed is False
