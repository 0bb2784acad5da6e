"""The ASGI wrappers the grader puts around a submission's apps, inside its server.

``Probe`` answers grader-only routes on the submission's own event loop:
``/__grader__/ping`` (whether the server still answers, between exercises),
``/__grader__/errors`` (the exceptions the app raised, so feedback can name
them) and ``/__grader__/streams`` (what each streaming response iterated, see
below). Before passing a request to the submission's app it puts the inputs
the request carries (the ``x-grader-inputs`` header: exercise 1's lines or
exercise 2's messages, drawn by the grader for this grading) in place of the
module's own, so the endpoint must read them when the request comes in. Each
exercise's ``serve`` hook (grader/exercises/) puts the probe in front of its app.

What a response streams. Starlette wraps a sync iterator in
``iterate_in_threadpool`` and runs each step in a worker thread; an ``async
def`` generator it iterates on the event loop. The probe notes, for each
``StreamingResponse`` it sees, which kind of iterator the route really returned
(or, for a path operation that yields itself, which kind of function it is),
with the function's name and first line, so the async-generator rule is judged
on the code the route runs (``grader.sourcecheck``). This is the server
describing itself, and the server is hostile: a submission may rewrite this
module in its own process and lie. The grader therefore takes the report only
to name a function, which it then looks up in the source it read itself before
anything ran, and checks it against what it sees from outside: how often the
server's threads other than the event loop's woke while the tokens streamed
(the kernel's count, in /proc), each token awaited and released only as its
event arrives (``grader.feed``), the loop free for a second stream meanwhile
(``grader.loopwatch``).

``Dispatch`` lets one server serve every exercise app of a submission: each
request goes to the app its ``x-grader-exercise`` header names.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import functools
import inspect
import json
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from grader.loader import MAX_DETAILS, exception_text

if TYPE_CHECKING:  # the exercises' modules import this one, and need no web framework to load
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

PING_PATH = "/__grader__/ping"
ERRORS_PATH = "/__grader__/errors"
STREAMS_PATH = "/__grader__/streams"
EXERCISE_HEADER = "x-grader-exercise"
INPUTS_HEADER = "x-grader-inputs"
MAX_RECORDED_ERRORS = 20
MAX_RECORDED_STREAMS = 20
# Where the probe of the request being served notes what its streaming response iterates.
_streams: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "grader_streams", default=None
)


def encode_inputs(values: tuple[str, ...] | list[str]) -> str:
    """Values for the inputs header: JSON, base64url-encoded (a header is ASCII)."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode("ascii")


def decode_inputs(text: bytes) -> list[str] | None:
    """The values an inputs header carries, or None when it holds no list of strings."""
    try:
        values = json.loads(base64.urlsafe_b64decode(text))
    except (ValueError, binascii.Error):
        return None
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        return values
    return None


def describe_stream(iterator: object, endpoint: object) -> dict[str, Any]:
    """What a streaming response iterates: an async generator, or a sync one in the threadpool.

    A path operation that yields (FastAPI's native SSE) is described by its own
    function; otherwise the iterator tells: Starlette's ``iterate_in_threadpool``
    around a sync iterator, or an async generator and the function it came from.
    """
    if inspect.isasyncgenfunction(endpoint) or inspect.isgeneratorfunction(endpoint):
        kind = "async" if inspect.isasyncgenfunction(endpoint) else "sync"
        return _code_record(kind, endpoint.__code__)  # type: ignore[attr-defined]
    if inspect.isasyncgen(iterator):
        from starlette.concurrency import iterate_in_threadpool

        if iterator.ag_code is iterate_in_threadpool.__code__ and iterator.ag_frame:
            return _sync_record(iterator.ag_frame.f_locals.get("iterator"))
        return _code_record("async", iterator.ag_code)
    return {"kind": "other", "name": type(iterator).__name__, "line": None}


def _code_record(kind: str, code: Any) -> dict[str, Any]:
    """A record naming a function by its code object."""
    return {"kind": kind, "name": code.co_name, "line": code.co_firstlineno}


def _sync_record(iterator: object) -> dict[str, Any]:
    """A record for a sync iterator run in the threadpool: a generator, or another object."""
    if inspect.isgenerator(iterator):
        return _code_record("sync", iterator.gi_code)
    return {"kind": "sync", "name": type(iterator).__name__, "line": None}


@functools.cache
def _watch_streaming_responses() -> None:
    """Note what each StreamingResponse iterates, for the probe serving the request."""
    from starlette.responses import StreamingResponse

    original = StreamingResponse.__call__

    async def noting_call(
        self: StreamingResponse, scope: Scope, receive: Receive, send: Send
    ) -> None:
        records = _streams.get()
        if records is not None and len(records) < MAX_RECORDED_STREAMS:
            records.append(describe_stream(self.body_iterator, scope.get("endpoint")))
        await original(self, scope, receive, send)

    StreamingResponse.__call__ = noting_call  # type: ignore[method-assign]


def describe_exception(exc: BaseException, filename: str | None = None) -> dict[str, Any]:
    """Type, message and the deepest frame in ``filename`` (or anywhere) of an exception.

    A group is described by the first exception it holds, however deep: a task group
    (FastAPI's native SSE streams in one) wraps what the endpoint raised.
    """
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
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
    """Wraps a submission's ASGI app with the grader's routes and inputs."""

    def __init__(
        self,
        app: ASGIApp,
        filename: str | None = None,
        inputs: tuple[ModuleType, str] | None = None,
    ) -> None:
        self.app = app
        self.filename = filename
        self.inputs = inputs  # the module and the name the inputs header replaces
        self.errors: list[dict[str, Any]] = []
        self.streams: list[dict[str, Any]] = []
        _watch_streaming_responses()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the grader's routes, or pass the request on and record what it raises."""
        if scope["type"] == "http" and scope["path"] == PING_PATH:
            await _send_json(send, 200, {"ok": True})
            return
        if scope["type"] == "http" and scope["path"] in (ERRORS_PATH, STREAMS_PATH):
            await _send_json(
                send, 200, self.errors if scope["path"] == ERRORS_PATH else self.streams
            )
            return
        if scope["type"] == "http":
            self._install_inputs(scope)
        token = _streams.set(self.streams)
        client = _Departure(receive)
        try:
            await self.app(scope, client.receive, send)
        except Exception as exc:
            # Raised once the client had left (FastAPI's native SSE raises on a hang-up),
            # it reached no client: the grader hung up on purpose, and nothing failed.
            if not client.gone and len(self.errors) < MAX_RECORDED_ERRORS:
                self.errors.append(describe_exception(exc, self.filename))
            raise
        finally:
            _streams.reset(token)

    def _install_inputs(self, scope: Scope) -> None:
        """Put the inputs the request carries in place of the module's own."""
        if self.inputs is None:
            return
        header = INPUTS_HEADER.encode()
        for name, value in scope.get("headers") or []:
            if name == header and (values := decode_inputs(value)) is not None:
                module, attribute = self.inputs
                setattr(module, attribute, values)


class _Departure:
    """A request's receive channel that notes when the client has gone."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.gone = False

    async def receive(self) -> Message:
        """The next message from the server; a disconnect is noted."""
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self.gone = True
        return message


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
