"""The grader's exceptions: why a submission, or a server serving it, cannot be graded."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.exercises.base import Exercise


class SubmissionError(Exception):
    """A submission's module cannot be graded; ``message`` says why, for the student."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UnsafeFile(SubmissionError):
    """A submission file the grader refuses to read; ``message`` names it and says what to do."""


class ServerLost(SubmissionError):
    """The server died or hung while importing ``ex``'s module, so it serves nothing."""

    def __init__(self, ex: Exercise, message: str, details: str = "") -> None:
        super().__init__(message, details)
        self.ex = ex


class ServerSplit(Exception):
    """The server's start failed in a way an earlier module may have caused.

    Each of ``exercises`` is graded next in a server of its own, where nothing ran before it.
    """

    def __init__(self, exercises: tuple[Exercise, ...]) -> None:
        super().__init__(", ".join(ex.id for ex in exercises))
        self.exercises = exercises
