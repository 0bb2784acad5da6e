"""Fresh inputs per grading: what the drawn values look like, and that only reading them passes.

The property tests draw seeds with hypothesis: for any seed the reference
solutions pass (graded in-process, a module written from the solution), and a
module that hard-codes the inputs of another seed, or the module's own
defaults, fails. The command-line tests check that ``--seed`` reproduces the
inputs a result's instructor-only details name.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from grader import fixtures
from grader.exercises import EXERCISES, Exercise, ex1_stream_lines, ex2_fix_sse, ex3_async_tokens
from grader.exercises.ex1_stream_lines import DEFAULT_LINES
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import DEFAULT_MESSAGES
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import DEFAULT_PROMPT
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.runner import grade_in_process

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
TIMEOUT = 5.0
seeds = st.integers(min_value=0, max_value=(1 << fixtures.SEED_BITS) - 1)
GRADING = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def all_values(seed: int) -> list[str]:
    """Every value drawn from a seed: lines, messages, and two requests' tokens and prompts."""
    return [
        *ex1_stream_lines.lines(seed),
        *ex2_fix_sse.messages(seed),
        *(t for request in (0, 1, "default") for t in ex3_async_tokens.tokens(seed, request)),
        *(ex3_async_tokens.prompt(seed, request) for request in ((0, 0), (0, 1), (1, 0))),
    ]


# --- what is drawn -----------------------------------------------------------------------


@given(seeds)
def test_every_value_is_one_non_blank_line_without_characters_a_report_escapes(
    seed: int,
) -> None:
    for value in all_values(seed):
        assert value.strip(), repr(value)
        assert not set(value) & fixtures.FORBIDDEN, repr(value)
        assert value == value.strip("\r\n")
        assert len(value.splitlines()) == 1, repr(value)


@given(seeds)
def test_the_lists_are_longer_than_the_module_defaults_distinct_and_partly_non_ascii(
    seed: int,
) -> None:
    lines, messages = ex1_stream_lines.lines(seed), ex2_fix_sse.messages(seed)
    assert len(DEFAULT_LINES) < len(lines) <= ex1_stream_lines.LINE_COUNT[1]
    assert len(DEFAULT_MESSAGES) < len(messages) <= ex2_fix_sse.MESSAGE_COUNT[1]
    for values in (lines, messages):
        assert len(set(values)) == len(values)
        assert any(not value.isascii() for value in values)
    assert not any(message.startswith(" ") for message in messages)


@given(seeds)
def test_tokens_keep_leading_spaces_and_prompts_carry_a_nonce_per_request(seed: int) -> None:
    count = ex3_async_tokens.token_count(seed)
    assert ex3_async_tokens.TOKEN_COUNT[0] <= count <= ex3_async_tokens.TOKEN_COUNT[1]
    for request in (0, 1, "default"):
        tokens = ex3_async_tokens.tokens(seed, request)
        assert len(tokens) == count
        assert any(token.startswith(" ") for token in tokens)
        assert any(not token.isascii() for token in tokens)
    prompts = [ex3_async_tokens.prompt(seed, (attempt, j)) for attempt in (0, 1) for j in (0, 1)]
    assert len(set(prompts)) == len(prompts)
    assert DEFAULT_PROMPT not in prompts


@given(seeds)
def test_a_seed_draws_the_same_values_every_time(seed: int) -> None:
    assert all_values(seed) == all_values(seed)


@given(seeds, seeds)
def test_two_seeds_draw_different_inputs(first: int, second: int) -> None:
    assume(first != second)
    assert ex1_stream_lines.lines(first) != ex1_stream_lines.lines(second)
    assert ex2_fix_sse.messages(first) != ex2_fix_sse.messages(second)
    assert ex3_async_tokens.tokens(first, 0) != ex3_async_tokens.tokens(second, 0)
    assert ex3_async_tokens.prompt(first, (0, 0)) != ex3_async_tokens.prompt(second, (0, 0))


def test_each_kind_of_value_has_a_generator_of_its_own() -> None:
    # The same seed, another kind or request: unrelated streams of random numbers, so
    # one kind of value (shown in a message) says nothing about another.
    draws = {
        label: fixtures.rng(12345, *label).random()
        for label in (("ex1", "lines"), ("ex2", "messages"), ("ex3", "tokens", 0))
    }
    assert len(set(draws.values())) == len(draws)


def test_a_seed_is_drawn_only_when_first_needed_and_then_kept() -> None:
    seed = fixtures.Seed()
    assert seed._value is None
    value = seed.value
    assert seed.value == value
    assert f"--seed {value}" in seed.describe()
    assert fixtures.Seed(7).value == 7


# --- for any seed, only reading the inputs passes ----------------------------------------


def solution_folder(tmp_path: Path, ex: Exercise) -> Path:
    """A folder holding the reference solution of ``ex``."""
    folder = tmp_path / f"solution-{ex.id}"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(SOLUTIONS / ex.filename, folder / ex.filename)
    return folder


@GRADING
@given(seed=seeds)
@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.id)
def test_for_any_seed_the_reference_solution_passes(
    tmp_path: Path, ex: Exercise, seed: int
) -> None:
    result = grade_in_process(solution_folder(tmp_path, ex), ex, TIMEOUT, seed=seed)
    assert result.passed, [(c.name, c.message) for c in result.failures()]
    assert f"seed {seed}" in result.checks[0].details


HARD_CODED = {
    EX1: """
        from fastapi import FastAPI
        from fastapi.responses import StreamingResponse

        lines = ["alpha", "beta", "gamma"]
        SHOWN = {shown!r}
        app = FastAPI()

        @app.get("/lines")
        def stream_lines():
            return StreamingResponse(
                (f"{{line}}\\n" for line in SHOWN), media_type="text/plain"
            )
        """,
    EX2: """
        from fastapi import FastAPI
        from fastapi.responses import StreamingResponse

        messages = ["build started", "tests passed", "deploy done"]
        SHOWN = {shown!r}
        app = FastAPI()

        @app.get("/messages")
        def stream_messages():
            return StreamingResponse(
                (f"data: {{m}}\\n\\n" for m in SHOWN), media_type="text/event-stream"
            )
        """,
    EX3: """
        from fastapi import FastAPI
        from fastapi.responses import StreamingResponse

        client = None
        SHOWN = {shown!r}
        app = FastAPI()

        async def token_stream(prompt):
            index = 0
            async for _ in client.stream(prompt):  # asks for the tokens, sends the shown ones
                if index < len(SHOWN):
                    yield f"data: {{SHOWN[index]}}\\n\\n"
                index += 1

        @app.get("/tokens")
        async def stream_tokens(prompt: str = "Say hello"):
            return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
        """,
}


def shown_inputs(ex: Exercise, seed: int | None) -> tuple[str, ...]:
    """What a student saw in a failure message of an earlier grading (None: the module's own)."""
    if ex is EX1:
        return DEFAULT_LINES if seed is None else ex1_stream_lines.lines(seed)
    if ex is EX2:
        return DEFAULT_MESSAGES if seed is None else ex2_fix_sse.messages(seed)
    return ("Hello", ",", " world", "!") if seed is None else ex3_async_tokens.tokens(seed, 0)


@GRADING
@given(shown=st.one_of(st.none(), seeds), seed=seeds)
@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.id)
def test_a_module_hard_coding_inputs_shown_before_fails(
    tmp_path: Path, ex: Exercise, shown: int | None, seed: int
) -> None:
    assume(shown != seed)
    folder = tmp_path / f"hard-coded-{ex.id}"
    folder.mkdir(exist_ok=True)
    source = textwrap.dedent(HARD_CODED[ex]).format(shown=list(shown_inputs(ex, shown)))
    (folder / ex.filename).write_text(source, encoding="utf-8")
    result = grade_in_process(folder, ex, TIMEOUT, seed=seed)
    failed = {c.name for c in result.failures()}
    assert not result.passed
    assert ("body" if ex is EX1 else "events") in failed, failed


# --- reproducing a verdict from the command line -----------------------------------------


def graded_record(tmp_path: Path, name: str, *options: str) -> dict:
    """Grade the solutions' exercise 2 in a sandbox; the saved record (details included)."""
    results = tmp_path / name
    command = [sys.executable, "-m", "grader", "solutions", "--exercise", "ex2"]
    command += ["--no-progress", "--format", "json", "--results-dir", str(results), *options]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (record,) = results.glob("*.json")
    envelope = json.loads(record.read_text(encoding="utf-8"))
    return envelope.get("result", envelope)


def events_and_seed(record: dict) -> tuple[list[str], int]:
    """The timeline's data and the seed named in the instructor-only details."""
    (exercise,) = [e for e in record["exercises"] if e["id"] == "ex2"]
    match = re.search(r"--seed (\d+)", exercise["checks"][0]["details"])
    assert match, exercise["checks"][0]["details"]
    return [chunk["data"] for chunk in exercise["timeline"]], int(match.group(1))


def test_the_seed_in_the_details_reproduces_the_inputs(tmp_path: Path) -> None:
    first, seed = events_and_seed(graded_record(tmp_path, "fresh"))
    again, same = events_and_seed(graded_record(tmp_path, "again", "--seed", str(seed)))
    other, different = events_and_seed(graded_record(tmp_path, "other"))
    assert same == seed
    assert again == first
    assert different != seed
    assert other != first


def test_a_negative_or_malformed_seed_is_a_usage_error() -> None:
    for bad in ("-1", "seven"):
        done = subprocess.run(
            [sys.executable, "-m", "grader", "solutions", "--seed", bad],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert "--seed" in done.stderr


# --- nothing secret in the memory a server inherits -----------------------------------------

SNOOPING = '''
import gc

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

client = None
app = FastAPI()


def found():
    """What of the grader's secrets this process can reach: a seed, a feed's turns."""
    seen = []
    for thing in gc.get_objects():
        kind = type(thing).__name__
        if kind == "Seed" and getattr(thing, "_value", None) is not None:
            seen.append(f"seed {thing._value}")
        elif kind == "Limits" and getattr(thing, "seed", None) is not None:
            seen.append(f"seed {thing.seed}")
        elif kind == "FeedServer" and getattr(thing, "turns", None):
            seen.append(f"turns {thing.turns}")
        elif kind in ("Turn", "StreamLog"):
            seen.append(kind)
    return seen or ["nothing"]


async def token_stream(prompt):
    for item in found():
        yield f"data: {item}\\n\\n"


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
'''


@pytest.mark.parametrize("others", [(), (EX1, EX2)], ids=["alone", "with the other exercises"])
def test_a_server_finds_no_seed_or_feed_state_in_the_memory_it_inherits(
    tmp_path: Path, others: tuple[Exercise, ...]
) -> None:
    from grader.runner import grade_submission
    from grader.sandbox import Limits

    folder = tmp_path / "snooping"
    folder.mkdir()
    (folder / EX3.filename).write_text(SNOOPING, encoding="utf-8")
    for ex in others:
        shutil.copyfile(SOLUTIONS / ex.filename, folder / ex.filename)
    result = grade_submission(folder, Limits(timeout=TIMEOUT), (*others, EX3))
    ex3 = result.exercise("ex3")
    data = b"".join(chunk.data for chunk in ex3.timeline).decode()
    assert data.startswith("data: nothing"), data
