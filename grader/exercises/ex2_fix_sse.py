"""Exercise 2, "Fix the broken SSE": one Server-Sent Event per message, each in its own chunk."""

from __future__ import annotations

from types import ModuleType

from grader import fixtures
from grader.checks import content_type_check, event_chunks_check, events_check
from grader.exercises.base import Exercise
from grader.grading import Target, exercise_result, read_with_inputs, response_check
from grader.probe import Probe
from grader.results import ExerciseResult

DEFAULT_MESSAGES: tuple[str, ...] = ("build started", "tests passed", "deploy done")
MESSAGE_COUNT = (4, 6)


def messages(seed: int) -> tuple[str, ...]:
    """The grader's ``messages``: 4 to 6 distinct messages, none starting with a space.

    No leading space: the lesson lets ``data:`` go without its space, which a
    browser then reads the same way.
    """
    rng = fixtures.rng(seed, "ex2", "messages")

    def message() -> str:
        text = fixtures.phrase(rng, rng.randint(2, 5))
        return text + rng.choice(fixtures.PUNCTUATION) if rng.random() < 0.5 else text

    return fixtures.distinct(rng, rng.randint(*MESSAGE_COUNT), message)


class FixSse(Exercise):
    """GET /messages streams one event per grader message, as text/event-stream."""

    def serve(self, module: ModuleType, feed_fd: int | None) -> Probe:
        """The app, with each request's messages (its inputs header) in place of ``messages``."""
        return Probe(module.app, self.filename, inputs=(module, "messages"))

    def grade(self, target: Target) -> ExerciseResult:
        """The response, its Content-Type, the events a browser fires, one chunk per event."""
        expected = list(messages(target.seed.value))
        t = read_with_inputs(target, self, sse=True, values=tuple(expected))
        found = [response_check(self, t, target)]
        if found[0].passed:
            found += [
                content_type_check(self, t),
                events_check(self, t, expected),
                *event_chunks_check(t, expected),
            ]
        return exercise_result(self, t, found)


EXERCISE = FixSse(
    id="ex2",
    module="ex2_fix_sse",
    title="Fix the broken SSE",
    method="GET",
    path="/messages",
    media_type="text/event-stream",
    hint=(
        "Each SSE message must end with a blank line \u2014 that is, \\n\\n. Without the "
        "double newline the client can\u2019t tell where one event ends, so it keeps waiting. "
        'The fix is yield f"data: {msg}\\n\\n". The media_type must also be '
        "text/event-stream."
    ),
    data_source="messages",
    data_default=DEFAULT_MESSAGES,
)
