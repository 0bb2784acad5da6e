"""The loop watch: two concurrent streams compared round by round, on the grader's clock.

The arithmetic is tested on timelines made by hand; the verdicts on real
submissions served by sandboxed uvicorn servers, as the grader serves them:
blocking generators fail, generators that await (even for long) pass, a machine
whose cores are all busy does not fail a right answer, and what a submission
says or spins cannot hide a blocked loop.
"""

from __future__ import annotations

import multiprocessing
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.loopwatch import LoopWatch, StreamTimes
from grader.results import ExerciseResult
from grader.runner import grade_submission
from grader.sandbox import Limits
from grader.settings import BLOCKED_LIMIT, MIN_ACK_DELAY, MIN_BLOCK

TIMEOUT = 5.0
HEAD = """\
import asyncio
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

client = None
app = FastAPI()


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
"""


def times(start: float, releases: list[float], arrivals: list[float], end: float) -> StreamTimes:
    """A stream's milestones."""
    return StreamTimes(start, releases, arrivals, end)


# --- the arithmetic --------------------------------------------------------------------------


def test_streams_that_advance_together_count_nothing() -> None:
    # Both streams wait 100 ms per token (an await), side by side.
    a = times(0.0, [0.0, 0.1, 0.2], [0.1, 0.2, 0.3], 0.3)
    b = times(0.0, [0.0, 0.1, 0.2], [0.1, 0.2, 0.3], 0.3)
    watch = LoopWatch(a, b)
    assert watch.rounds() == [
        pytest.approx((0.1, 0.1)),
        pytest.approx((0.1, 0.1)),
        pytest.approx((0.1, 0.1)),
        pytest.approx((0.1, 0.1)),
    ]
    assert watch.blocked_seconds() == 0.0


def test_streams_that_take_turns_count_the_time_they_ran_one_after_the_other() -> None:
    # Each round: one stream's event after 100 ms, the other's only after 200 ms.
    a = times(0.0, [0.0, 0.2, 0.4], [0.1, 0.3, 0.5], 0.5)
    b = times(0.0, [0.0, 0.2, 0.4], [0.2, 0.4, 0.6], 0.6)
    watch = LoopWatch(a, b)
    assert watch.serialized() == pytest.approx([0.1, 0.1, 0.1, 0.1])
    assert watch.blocked_seconds() == pytest.approx(0.4)
    assert watch.longest() == pytest.approx(0.1)
    assert "4 rounds" in watch.summary()


def test_rounds_below_the_noise_floor_count_nothing() -> None:
    jitter = MIN_BLOCK * 0.9
    a = times(0.0, [0.0, 0.1], [jitter, 0.1 + jitter], 0.1 + jitter)
    b = times(0.0, [0.0, 0.1], [2 * jitter, 0.1 + 2 * jitter], 0.1 + 2 * jitter)
    assert LoopWatch(a, b).blocked_seconds() == 0.0


def test_one_fast_stream_beside_a_slow_one_counts_only_the_fast_one_s_wait() -> None:
    # min(a, b, |a - b|): a stream that waited 5 ms cannot have been held up for more.
    a = times(0.0, [0.0], [0.005], 0.005)
    b = times(0.0, [0.0], [0.5], 0.5)
    assert LoopWatch(a, b).blocked_seconds() == 0.0


def test_a_stream_that_broke_off_is_compared_only_on_the_rounds_it_reached() -> None:
    a = times(0.0, [0.0, 0.1, 0.2], [0.1, 0.2, 0.3], 0.3)
    b = times(0.0, [0.0], [0.1], None)  # type: ignore[arg-type]
    assert len(LoopWatch(a, b).rounds()) == 1


def test_late_acknowledgements_count_as_blocked_even_when_rounds_look_even() -> None:
    # Both events of each round came together, but the loop read each token 100 ms late.
    releases = [0.0, 0.2, 0.4]
    late = [0.1, 0.3, 0.5]
    a = StreamTimes(0.0, releases, [0.2, 0.4, 0.6], 0.6, late)
    b = StreamTimes(0.0, releases, [0.2, 0.4, 0.6], 0.6, late)
    watch = LoopWatch(a, b)
    assert sum(watch.serialized()) == 0.0
    assert watch.delays() == pytest.approx([0.1] * 6)
    # Both streams waited through the same three blocks: 0.3 s in all, not 0.6 s.
    assert watch.blocked_seconds() == pytest.approx(0.3)


def test_late_pings_count_once_per_block_even_when_they_overlap() -> None:
    a = StreamTimes(0.0, [], [], None, [], [(0.0, 0.3), (1.0, 1.2)])
    b = StreamTimes(0.0, [], [], None, [], [(0.1, 0.3), (1.05, 1.25)])
    assert LoopWatch(a, b).blocked_seconds() == pytest.approx(0.3 + 0.25)
    alone = LoopWatch(a, b).with_alone([(2.0, 2.3)])
    assert alone.blocked_seconds() == pytest.approx(0.3 + 0.25 + 0.3)


def test_acknowledgements_a_loaded_machine_delays_a_little_count_nothing() -> None:
    releases = [0.0, 0.1, 0.2]
    acks = [r + MIN_ACK_DELAY * 0.9 for r in releases]
    a = StreamTimes(0.0, releases, [0.1, 0.2, 0.3], 0.3, acks)
    assert LoopWatch(a, a).blocked_seconds() == 0.0


# --- real submissions in sandboxes -----------------------------------------------------------


def grade(tmp_path: Path, generator: str, name: str = "submission") -> ExerciseResult:
    """Grade exercise 3 of a module with this ``token_stream`` in a sandbox."""
    folder = tmp_path / name
    folder.mkdir()
    source = HEAD + "\n\n" + textwrap.dedent(generator)
    (folder / EX3.filename).write_text(source, encoding="utf-8")
    return grade_submission(folder, Limits(timeout=TIMEOUT), (EX3,)).exercise("ex3")


def failed(result: ExerciseResult) -> dict[str, str]:
    """Failed checks by name -> message."""
    return {c.name: c.message for c in result.failures()}


STREAMING = """
async def token_stream(prompt):
    async for token in client.stream(prompt):
        yield f"data: {token}\\n\\n"
"""


@pytest.mark.parametrize(
    "generator",
    [
        STREAMING.replace("        yield", "        time.sleep(0.1)\n        yield"),
        STREAMING + "        time.sleep(0.1)\n",
        STREAMING.replace("    async for", "    time.sleep(0.6)\n    async for"),
    ],
    ids=["time.sleep before each yield", "time.sleep after each yield", "one long block"],
)
def test_a_generator_that_blocks_the_loop_fails(tmp_path: Path, generator: str) -> None:
    result = grade(tmp_path, generator)
    message = failed(result)
    assert list(message) == ["event loop"], message
    assert message["event loop"].startswith("The event loop was blocked for")
    assert "two requests at once could not advance together" in message["event loop"]


@pytest.mark.parametrize(
    "generator",
    [
        STREAMING.replace("        yield", "        await asyncio.sleep(0.1)\n        yield"),
        # a wait that depends on the token: both streams get the same tokens
        STREAMING.replace(
            "        yield", "        await asyncio.sleep(0.03 * len(token))\n        yield"
        ),
    ],
    ids=["await per token", "await per token, by its length"],
)
def test_a_generator_that_awaits_passes_however_long_it_waits(
    tmp_path: Path, generator: str
) -> None:
    result = grade(tmp_path, generator)
    assert failed(result) == {}, result.checks


WATCHED = """
in_flight = 0


async def token_stream(prompt):
    global in_flight
    in_flight += 1
    try:
        async for token in client.stream(prompt):
            if {condition}:
                time.sleep(0.3)
            yield f"data: {{token}}\\n\\n"
    finally:
        in_flight -= 1
"""


@pytest.mark.parametrize(
    "condition",
    ["in_flight == 1", "in_flight > 1"],
    ids=["only while no other stream is in flight", "only beside another stream"],
)
def test_blocking_that_depends_on_what_else_is_in_flight_still_fails(
    tmp_path: Path, condition: str
) -> None:
    result = grade(tmp_path, WATCHED.format(condition=condition))
    assert list(failed(result)) == ["event loop"], failed(result)


def test_a_sync_generator_in_the_threadpool_keeps_the_loop_free_but_breaks_the_rule(
    tmp_path: Path,
) -> None:
    generator = """
    def token_stream(prompt):
        loop = asyncio.new_event_loop()
        tokens = client.stream(prompt)
        try:
            while True:
                try:
                    token = loop.run_until_complete(anext(tokens))
                except StopAsyncIteration:
                    break
                yield f"data: {token}\\n\\n"
        finally:
            loop.close()
    """
    assert list(failed(grade(tmp_path, generator))) == ["async generator"]


def spin(seconds: float) -> None:
    """Keep one CPU busy."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.fixture
def busy_machine() -> Iterator[None]:
    """Every core busy with a spinning process (plus whatever else the machine runs)."""
    context = multiprocessing.get_context("fork")
    spinners = [
        context.Process(target=spin, args=(60.0,), daemon=True)
        for _ in range(multiprocessing.cpu_count())
    ]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.join()


def test_a_right_answer_passes_on_a_machine_whose_cores_are_all_busy(
    tmp_path: Path, busy_machine: None
) -> None:
    for attempt in range(3):
        result = grade(tmp_path, STREAMING, f"right-{attempt}")
        assert failed(result) == {}, [c.details for c in result.checks]


def test_a_blocked_loop_still_fails_on_a_busy_machine(tmp_path: Path, busy_machine: None) -> None:
    generator = STREAMING.replace("        yield", "        time.sleep(0.1)\n        yield")
    assert "event loop" in failed(grade(tmp_path, generator))


def test_what_the_server_says_or_spins_cannot_hide_a_blocked_loop(tmp_path: Path) -> None:
    # The old watch believed a ping answered inside the server and subtracted run-queue
    # delay: this module answers pings at once from a thread of its own, truncated, and
    # keeps spinning children to inflate the run-queue figures, while its loop blocks.
    generator = """
    import os
    import socket
    import threading

    from grader import probe

    for _ in range(2):
        if os.fork() == 0:
            while True:
                pass

    _original = probe.Probe.__call__

    async def _lying(self, scope, receive, send):
        if scope.get("path") == probe.PING_PATH:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b'{"thr'})
            return
        await _original(self, scope, receive, send)

    probe.Probe.__call__ = _lying

    async def token_stream(prompt):
        async for token in client.stream(prompt):
            time.sleep(0.2)
            yield f"data: {token}\\n\\n"
    """
    message = failed(grade(tmp_path, generator))
    assert "event loop" in message, message
    blocked = float(message["event loop"].split("blocked for ")[1].split(" s")[0])
    assert blocked >= BLOCKED_LIMIT
