"""What exercise 5's grader assumes of a browser, checked against Debian's headless Chromium.

The grader reconnects as an ``EventSource`` does: it sends ``Accept:
text/event-stream`` and ``Cache-Control: no-cache``, and on a reconnect the last
event ID as ``Last-Event-ID``, UTF-8 encoded (which Starlette then reads as
Latin-1); once a stream has ended it reconnects with the last id it saw, and a
204 makes it stop. Here Chromium does each of these against the reference
solution and a bare ASGI app that notes every request's headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from grader.exercises.ex5_resume_last_event_id import BROWSER_HEADERS, LAST_EVENT_ID
from lessons.demo.serve import serve_in_thread
from solutions import ex5_resume_last_event_id as solution
from tests.browser_support import chromium

pytestmark = pytest.mark.browser

RETRY = b"retry: 50\n\n"  # sent first on every stream, so Chromium reconnects at once
UNICODE_ID = "ünï ✓-7"
LISTEN_MS = 1500
LISTEN = """(url) => new Promise((resolve) => {
  const seen = [];
  const source = new EventSource(url);
  source.onmessage = (event) => { seen.push([event.lastEventId, event.data]); };
  setTimeout(() => { source.close(); resolve(seen); }, %d);
})"""
PAGE = b"<!doctype html><title>ex5</title>"


class Recorder:
    """The solution's app at /updates and a bare event stream at /unicode, headers noted.

    Every response at /updates opens with ``retry:``; /unicode sends one event whose id
    is not ASCII, then answers 204 to a reconnect.
    """

    def __init__(self) -> None:
        self.requests: dict[str, list[dict[str, bytes]]] = {"/updates": [], "/unicode": []}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path in self.requests:
            self.requests[path].append({k.decode(): v for k, v in scope["headers"]})
        if path == "/updates":
            await solution.app(scope, receive, _retry_first(send))
        elif path == "/unicode":
            resumed = LAST_EVENT_ID.lower() in self.requests[path][-1]
            body = b"" if resumed else f"retry: 50\nid: {UNICODE_ID}\ndata: x\n\n".encode()
            await _respond(send, 204 if resumed else 200, "text/event-stream", body)
        else:
            await _respond(send, 200, "text/html", PAGE)


def _retry_first(send: Send) -> Send:
    """``send``, with RETRY before the first body bytes."""
    first = [True]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body" and first[0]:
            first[0] = False
            message = {**message, "body": RETRY + message.get("body", b"")}
        await send(message)

    return sending


async def _respond(send: Send, status: int, media_type: str, body: bytes) -> None:
    """A whole small response."""
    headers = [(b"content-type", media_type.encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def served() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    with serve_in_thread(recorder) as url:
        yield recorder, url


@pytest.fixture
def tab(served: tuple[Recorder, str]) -> Iterator[Any]:
    with chromium(30_000) as browser:
        page = browser.new_page()
        page.goto(served[1])
        yield page


def test_chromium_shows_each_update_once_across_its_reconnects(
    served: tuple[Recorder, str], tab: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder, _ = served
    updates = ["déjà vu", "naïve ✓", "straße", "🙂 done"]
    monkeypatch.setattr(solution, "updates", updates)
    seen = tab.evaluate(LISTEN % LISTEN_MS, "/updates")
    assert seen == [[str(number), update] for number, update in enumerate(updates)]
    requests = recorder.requests["/updates"]
    assert len(requests) >= 3  # the stream, then reconnects once each one ended
    assert LAST_EVENT_ID.lower() not in requests[0]
    assert {request.get(LAST_EVENT_ID.lower()) for request in requests[1:]} == {b"3"}
    for request in requests:
        for name, value in BROWSER_HEADERS.items():
            assert request[name.lower()] == value.encode()


def test_chromium_sends_a_unicode_id_as_utf8_and_a_204_stops_it(
    served: tuple[Recorder, str], tab: Any
) -> None:
    recorder, _ = served
    assert tab.evaluate(LISTEN % LISTEN_MS, "/unicode") == [[UNICODE_ID, "x"]]
    first, again = recorder.requests["/unicode"]  # no third request: the 204 stopped it
    assert LAST_EVENT_ID.lower() not in first
    assert again[LAST_EVENT_ID.lower()] == UNICODE_ID.encode("utf-8")
    assert again[LAST_EVENT_ID.lower()].decode("latin-1") != UNICODE_ID  # what Starlette reads
