"""The demo page in real headless Chromium: EventSource moves the bar as each event arrives.

Skips when Chromium (or the playwright package) is missing, unless CI=true: then it fails.
Chromium is Debian's /usr/bin/chromium, or the executable named by CHROMIUM_PATH.
"""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lessons.demo.sse_client import watch_events

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
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
WAIT_MS = 20_000
FILL_SPANS_TRACK = """() => {
  const fill = document.getElementById("fill").getBoundingClientRect().width;
  const track = document.getElementById("bar").getBoundingClientRect().width;
  return track > 0 && Math.abs(fill - track) < 1;
}"""


def unavailable(reason: str) -> None:
    """Skip locally, but fail under CI, where the browser tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    executable = os.environ.get("CHROMIUM_PATH", CHROMIUM)
    if not Path(executable).is_file():
        unavailable(f"Chromium not found at {executable} (set CHROMIUM_PATH to use another)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"the playwright package is not installed ({exc})")
    # Playwright gives every launch a fresh temporary profile (user data dir) of its own.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, timeout=WAIT_MS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 700})
    try:
        yield context.new_page()
    finally:
        context.close()


def test_eventsource_fires_once_per_server_event_and_fills_the_bar(page, demo_url, http):
    query = "steps=8&delay=0.05"
    sent = [a.event for a in watch_events(http, f"{demo_url}/job/progress?{query}")]
    sent_data = [m.data for m in sent if m.event == "message"]

    page.goto(f"{demo_url}/?{query}")
    page.click("#start")
    page.wait_for_function(
        "document.getElementById('status').textContent === 'done'", timeout=WAIT_MS
    )

    assert page.evaluate("window.sseEvents") == sent_data
    assert page.evaluate("source.readyState") == page.evaluate("EventSource.CLOSED")
    assert page.get_attribute("#bar", "aria-valuenow") == "100"
    assert page.inner_text("#percent") == "100%"
    steps = [json.loads(data)["step"] for data in sent_data]
    assert page.locator("#log li").all_inner_texts() == [
        *(f"step {step}/{len(steps)}: {round(100 * step / len(steps))}%" for step in steps),
        "done",
    ]

    # What a person sees: the drawn bar spans the whole track (once its CSS transition ends).
    page.wait_for_function(FILL_SPANS_TRACK, timeout=WAIT_MS)

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "demo_progress.png"
    page.screenshot(path=screenshot, full_page=True)
    print(f"screenshot: {screenshot}")


def test_page_shows_a_failed_stream_and_stops_reconnecting(page, demo_url):
    page.goto(f"{demo_url}/?steps=0&autostart")
    page.wait_for_function(
        "document.getElementById('status').textContent !== 'running'", timeout=WAIT_MS
    )
    assert page.inner_text("#status") == "stream failed or was cut off"
    assert page.evaluate("source.readyState") == page.evaluate("EventSource.CLOSED")
    assert page.evaluate("window.sseEvents") == []
