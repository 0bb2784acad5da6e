"""The demo page in real headless Chromium: EventSource moves the bar as each event arrives.

Skips when Chromium (or the playwright package) is missing, unless CI=true: then it fails.
Chromium is Debian's /usr/bin/chromium, or the executable named by CHROMIUM_PATH.
"""

import json
from collections.abc import Iterator

import pytest

from lessons.demo.sse_client import watch_events
from tests.browser_support import ARTIFACTS, chromium

pytestmark = pytest.mark.browser

WAIT_MS = 20_000
FILL_SPANS_TRACK = """() => {
  const fill = document.getElementById("fill").getBoundingClientRect().width;
  const track = document.getElementById("bar").getBoundingClientRect().width;
  return track > 0 && Math.abs(fill - track) < 1;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with chromium(WAIT_MS) as launched:
        yield launched


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
