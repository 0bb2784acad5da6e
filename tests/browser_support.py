"""Debian's headless Chromium for the browser tests, driven by playwright.

Chromium is /usr/bin/chromium, or the executable named by CHROMIUM_PATH; no browser is
downloaded. Without it (or without playwright) a test skips locally and fails under
CI=true, where the browser tests must run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Flags that let Debian's Chromium run headless as root in a container, quietly.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The Chromium executable the browser tests use."""
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def unavailable(reason: str) -> None:
    """Skip locally, but fail under CI, where the browser tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}")
    pytest.skip(reason)


@contextmanager
def chromium(timeout_ms: int) -> Iterator[Any]:
    """A launched headless Chromium, closed afterwards; skips or fails when there is none."""
    executable = chromium_path()
    if not Path(executable).is_file():
        unavailable(f"Chromium not found at {executable} (set CHROMIUM_PATH to use another)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"the playwright package is not installed ({exc})")
    # Playwright gives every launch a fresh temporary profile (user data dir) of its own.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, timeout=timeout_ms
        )
        try:
            yield browser
        finally:
            browser.close()
