"""Streaming-aware autograder for Lesson 3: Streaming and Server-Sent Events.

This package must stay importable with the standard library alone (the
bootstrap module runs before anything is installed), so heavy imports live in
the submodules that need them.
"""

__version__ = "0.1.0"
