"""The ASGI wrappers the grader puts around a submission's apps.

``Probe`` answers two grader-only routes on the submission's own event loop:
``/__grader__/ping`` (so the client can tell whether that loop is free while a
stream is in flight) and ``/__grader__/errors`` (the exceptions the app raised,
so feedback can name them). Everything else goes to the submission's app.

``Dispatch`` lets one server serve every exercise app of a submission: each
request goes to the app its ``x-grader-exercise`` header names.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from grader.loader import MAX_DETAILS, exception_text

PING_PATH = "/__grader__/ping"
ERRORS_PATH = "/__grader__/errors"
EXERCISE_HEADER = "x-grader-exercise"
MAX_RECORDED_ERRORS = 20


def describe_exception(exc: BaseException, filename: str | None = None) -> dict[str, Any]:
    """Type, message and the deepest frame in ``filename`` (or anywhere) of an exception."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if filename and Path(f.filename).name == filename] or frames
    where = own[-1] if own else None
    return {
        "summary": exception_text(exc),
        "file": Path(where.filename).name if where else None,
        "line": where.lineno if where else None,
        "traceback": "".join(traceback.format_exception(exc))[-MAX_DETAILS:],
    }


async def _send_json(send: Send, status: int, payload: object) -> None:
    """Send a small complete JSON response."""
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Probe:
    """Wraps a submission's ASGI app with the grader's ping and error routes."""

    def __init__(self, app: ASGIApp, filename: str | None = None) -> None:
        self.app = app
        self.filename = filename
        self.errors: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the grader's routes, or pass the request on and record what it raises."""
        if scope["type"] == "http" and scope["path"] == PING_PATH:
            # The loop thread's id lets an in-process grader read its scheduler statistics.
            await _send_json(send, 200, {"thread": threading.get_native_id()})
            return
        if scope["type"] == "http" and scope["path"] == ERRORS_PATH:
            await _send_json(send, 200, self.errors)
            return
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if len(self.errors) < MAX_RECORDED_ERRORS:
                self.errors.append(describe_exception(exc, self.filename))
            raise


class Dispatch:
    """One ASGI app in front of several: the ``x-grader-exercise`` header picks the app."""

    def __init__(self, apps: dict[str, ASGIApp]) -> None:
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route a request by its exercise header; run every app's lifespan side by side."""
        if scope["type"] == "lifespan":
            await _lifespans(list(self.apps.items()), scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        app = self.apps.get(headers.get(EXERCISE_HEADER.encode(), b"").decode("latin-1"))
        if app is None:
            await _send_json(send, 404, {"detail": f"no exercise app named by {EXERCISE_HEADER}"})
            return
        await app(scope, receive, send)


class _Lifespan:
    """One app's lifespan, driven a message at a time by ``Dispatch``."""

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task = asyncio.ensure_future(app(scope, self.inbox.get, self.replies.put))

    async def step(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Pass one message on; the app's reply, or None when its lifespan is over or absent."""
        if self.task.done():
            return None
        self.inbox.put_nowait(message)
        reply = asyncio.ensure_future(self.replies.get())
        await asyncio.wait({reply, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if reply.done():
            return reply.result()
        reply.cancel()
        if not self.task.cancelled():
            self.task.exception()  # an app without a lifespan raised on the scope: that is all
        return None


async def _lifespans(
    apps: list[tuple[str, ASGIApp]], scope: Scope, receive: Receive, send: Send
) -> None:
    """Start and stop every app's lifespan, as uvicorn would each app's on its own server.

    An app whose startup fails keeps serving without it (its requests show the
    consequences); the others are not held back. The failure goes to the log.
    """
    spans = [(name, _Lifespan(app, scope)) for name, app in apps]
    for phase in ("startup", "shutdown"):
        message = await receive()
        for name, span in spans:
            reply = await span.step(message)
            if reply is not None and reply["type"].endswith(".failed"):
                why = reply.get("message", "")
                print(f"{name}: lifespan {phase} failed: {why}", file=sys.stderr)
        await send({"type": f"lifespan.{phase}.complete"})
    for _, span in spans:
        span.task.cancel()
