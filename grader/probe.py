"""An ASGI wrapper the grader puts around a submission's app.

It answers two grader-only routes on the submission's own event loop:
``/__grader__/ping`` (so the client can tell whether that loop is free while a
stream is in flight) and ``/__grader__/errors`` (the exceptions the app raised,
so feedback can name them). Everything else goes to the submission's app.
"""

from __future__ import annotations

import json
import threading
import traceback
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from grader.loader import MAX_DETAILS, exception_text

PING_PATH = "/__grader__/ping"
ERRORS_PATH = "/__grader__/errors"
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
