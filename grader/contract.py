"""The public exercise contract shared by the stubs, the solutions, the grader and the docs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """One exercise of the lesson: where it lives, what it serves, and its hint.

    ``hint`` is the lesson's own hint, word for word.
    """

    id: str
    module: str
    title: str
    method: str
    path: str
    media_type: str
    source_name: str
    hint: str
    max_score: float = 1.0

    @property
    def filename(self) -> str:
        """The file a submission folder holds for this exercise."""
        return f"{self.module}.py"


EX1 = Exercise(
    id="ex1",
    module="ex1_stream_lines",
    title="Stream a list of lines",
    method="GET",
    path="/lines",
    media_type="text/plain",
    source_name="lines",
    hint=(
        'Write a generator that loops over lines and yields f"{line}\\n" for each, then '
        'return StreamingResponse(gen(), media_type="text/plain"). Each yield is sent as '
        "its own chunk, so the body comes out as 'alpha\\nbeta\\ngamma\\n'."
    ),
)

EX2 = Exercise(
    id="ex2",
    module="ex2_fix_sse",
    title="Fix the broken SSE",
    method="GET",
    path="/messages",
    media_type="text/event-stream",
    source_name="messages",
    hint=(
        "Each SSE message must end with a blank line \u2014 that is, \\n\\n. Without the "
        "double newline the client can\u2019t tell where one event ends, so it keeps waiting. "
        'The fix is yield f"data: {msg}\\n\\n". The media_type must also be '
        "text/event-stream."
    ),
)

EX3 = Exercise(
    id="ex3",
    module="ex3_async_tokens",
    title="Sync or async generator?",
    method="GET",
    path="/tokens",
    media_type="text/event-stream",
    source_name="client",
    hint=(
        "Use an async def generator (async def ...: ... yield ...). Because each token comes "
        "from an awaitable call, an async generator lets you await between yields without "
        "blocking the event loop, keeping the worker free to serve other requests. A plain "
        "def generator can\u2019t await, so it wouldn\u2019t be able to call the async client "
        "correctly."
    ),
)

EXERCISES: tuple[Exercise, ...] = (EX1, EX2, EX3)
EXERCISE_IDS: tuple[str, ...] = tuple(ex.id for ex in EXERCISES)

DEFAULT_LINES: tuple[str, ...] = ("alpha", "beta", "gamma")
DEFAULT_MESSAGES: tuple[str, ...] = ("build started", "tests passed", "deploy done")
DEFAULT_PROMPT = "Say hello"


def exercise(exercise_id: str) -> Exercise:
    """Return the exercise with this id, or raise KeyError naming the valid ids."""
    for ex in EXERCISES:
        if ex.id == exercise_id:
            return ex
    raise KeyError(f"unknown exercise {exercise_id!r}; expected one of {', '.join(EXERCISE_IDS)}")
