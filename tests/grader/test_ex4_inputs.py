"""Exercise 4's inputs: a fresh log name, fresh lines and a fresh k for every grading."""

from __future__ import annotations

import pytest

from grader.exercises.ex4_stop_when_client_leaves import (
    EVENTS_BEFORE_LEAVING,
    events_before_leaving,
    log_lines,
    log_name,
)
from grader.fixtures import FORBIDDEN, new_seed

SEEDS = [new_seed() for _ in range(50)]
COUNT = 70


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_lines_are_one_line_each_and_round_trip_as_event_data(seed: int) -> None:
    lines = log_lines(seed, 0, COUNT)
    assert len(lines) == len(set(lines)) == COUNT
    for line in lines:
        assert not FORBIDDEN & set(line), line
        assert line == line.strip(), line  # a leading space would be eaten after "data:"
    assert any(not line.isascii() for line in lines)


def test_the_same_seed_draws_the_same_inputs_and_another_seed_others() -> None:
    seed, other = SEEDS[0], SEEDS[1]
    assert log_name(seed, 0) == log_name(seed, 0)
    assert log_lines(seed, 0, COUNT) == log_lines(seed, 0, COUNT)
    assert log_name(seed, 0) != log_name(other, 0)
    assert log_lines(seed, 0, COUNT) != log_lines(other, 0, COUNT)


def test_each_request_of_a_grading_has_a_log_name_of_its_own() -> None:
    for seed in SEEDS:
        assert log_name(seed, 0) != log_name(seed, 1)
    assert len({log_name(seed, 0) for seed in SEEDS}) == len(SEEDS)


def test_the_client_leaves_after_a_number_of_events_drawn_from_the_seed() -> None:
    drawn = {events_before_leaving(seed) for seed in SEEDS}
    low, high = EVENTS_BEFORE_LEAVING
    assert drawn <= set(range(low, high + 1))
    assert len(drawn) > 1
