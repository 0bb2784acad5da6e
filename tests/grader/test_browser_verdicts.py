"""The grader sees an event stream as a browser does: its charset and its Content-Encoding.

A real uvicorn server on loopback serves event streams with one charset or
another, gzip- or deflate-encoded and flushed after each event. The grader's own
client reads them; where Chromium is installed, its ``EventSource`` reads the
same streams and the two must agree on what a page would show. Without Chromium
the differential tests skip, saying why, unless CI=true: then they fail.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from grader import checks
from grader.decoding import ACCEPT_ENCODING
from grader.exercises import Exercise, exercise
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.transcript import MAX_BODY_BYTES, StreamReader, Transcript
from lessons.demo.serve import serve_in_thread
from tests.browser_support import chromium
from tests.grader.helpers import ROOT, grader, make_submission, reference, report

EVENTS = ["première ✓", "second: 🙂", "  third, spaced"]
SPACING = 0.15  # seconds between events, so each one arrives in a chunk of its own
READ_LIMIT = 10.0
BOMB_BYTES = 64 << 20  # decoded size of the compressed bomb, far above the body cap
ACCEPTED_CHARSETS = ["", "utf-8", "UTF-8", '"utf-8"', "Utf-8"]
REFUSED_CHARSETS = ["utf8", "iso-8859-1", "windows-1252", "us-ascii", "utf-16"]
# Spellings around the rules: case, other parameters, quotes, a second charset, spaces.
CONTENT_TYPES = [
    "Text/Event-Stream",
    "text/event-stream;charset=UTF-8;format=x",
    "text/event-stream; CHARSET=latin1",
    'text/event-stream; charset="latin1"',
    "text/event-stream;charset=utf-8;charset=latin1",
    "text/event-stream;charset=latin1;charset=utf-8",
    "text/event-stream; charset = latin1",
    "text/event-stream; charset= latin1",
    "text/event-stream; charset =latin1",
    'text/event-stream;charset=""',
    "text/event-stream;charset=",
    "text/event-stream;charset=utf-8;",
    "text/event-stream;",
    "text/plain",
]
CODINGS = ["gzip", "deflate", "raw-deflate", "identity", "deflate,gzip"]
WRONG = ROOT / "tests" / "corpus" / "wrong"
# Starlette's GZipMiddleware leaves event streams alone by default; this one compresses
# every response and flushes after each chunk the app sends.
GZIP_EVERYTHING = (
    "\nfrom starlette.middleware.gzip import GZipMiddleware\n"
    "app.add_middleware(GZipMiddleware, minimum_size=0, exclude_content_types=())\n"
)
WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "raw-deflate": -zlib.MAX_WBITS}


# --- the server ----------------------------------------------------------------------------


def content_encoding(coding: str) -> str:
    """The Content-Encoding header of a coding (several are applied in the order given)."""
    return ", ".join(c.replace("raw-", "") for c in coding.split(","))


def compressed(squeezers: list[Any], data: bytes, mode: int) -> bytes:
    """``data`` through each compressor in turn, each flushed with ``mode``."""
    for squeeze in squeezers:
        data = squeeze.compress(data) + squeeze.flush(mode)
    return data


async def event_bytes(coding: str) -> AsyncIterator[bytes]:
    """Each event in a chunk of its own, compressed and flushed when a coding is asked for."""
    codings = [c for c in coding.split(",") if c in WBITS]
    squeezers = [zlib.compressobj(6, zlib.DEFLATED, WBITS[c]) for c in codings]
    for number, data in enumerate(EVENTS):
        if number:
            await asyncio.sleep(SPACING)
        yield compressed(squeezers, f"data: {data}\n\n".encode(), zlib.Z_SYNC_FLUSH)
    if squeezers:
        yield compressed(squeezers, b"", zlib.Z_FINISH)


async def events(request: Request) -> Response:
    """An event stream: ?charset= adds that parameter, ?type= is the whole Content-Type,
    ?coding= compresses it."""
    charset = request.query_params.get("charset")
    coding = request.query_params.get("coding", "identity")
    media_type = "text/event-stream" + (f"; charset={charset}" if charset is not None else "")
    media_type = request.query_params.get("type", media_type)
    headers = {"Content-Type": media_type}  # as given: media_type= would add a charset
    if coding != "identity":
        headers["Content-Encoding"] = content_encoding(coding)
    return StreamingResponse(event_bytes(coding), headers=headers)


def bomb_body() -> bytes:
    """A small gzip body that decodes to BOMB_BYTES of "data: 0..."."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, WBITS["gzip"])
    block = b"data: " + b"0" * (1 << 20)
    body = b"".join(squeeze.compress(block) for _ in range(BOMB_BYTES >> 20))
    return body + squeeze.flush()


async def bomb(_: Request) -> Response:
    """A compressed bomb as an event stream."""
    return Response(
        bomb_body(), media_type="text/event-stream", headers={"Content-Encoding": "gzip"}
    )


async def brotli(_: Request) -> Response:
    """A body in a coding the grader never asked for."""
    return Response(
        b"\x0b\x02\x80data", media_type="text/event-stream", headers={"Content-Encoding": "br"}
    )


async def echo_headers(request: Request) -> Response:
    """The request's headers, to see what a client asks for."""
    return JSONResponse({k.lower(): v for k, v in request.headers.items()})


async def page(_: Request) -> Response:
    """An empty page of the same origin, so EventSource needs no CORS."""
    return HTMLResponse("<!doctype html><title>sse</title>")


APP = Starlette(
    routes=[
        Route("/", page),
        Route("/events", events),
        Route("/bomb", bomb),
        Route("/br", brotli),
        Route("/headers", echo_headers),
    ]
)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_in_thread(APP) as url:
        yield url


@pytest.fixture(scope="module")
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=READ_LIMIT) as client:
        yield client


def read(client: httpx2.Client, url: str) -> Transcript:
    """What the grader's stream reader records for the URL."""
    reader = StreamReader(sse=True)
    return reader.read(client, url, deadline=_deadline())


def _deadline() -> float:
    """When a read gives up."""
    return time.monotonic() + READ_LIMIT


def shown_by_grader(t: Transcript) -> list[str]:
    """The events the grader says a browser would fire: none when it refuses the response."""
    if t.status != 200 or not checks.content_type_check(EX2, t).passed:
        return []
    return t.event_data()


def stream_url(server: str, charset: str | None = None, coding: str = "identity") -> str:
    """The URL of one of the server's event streams."""
    query = [f"coding={coding}"] + ([f"charset={charset}"] if charset is not None else [])
    return f"{server}/events?{'&'.join(query)}"


# --- the grader's client -------------------------------------------------------------------


@pytest.mark.parametrize("charset", REFUSED_CHARSETS)
def test_a_charset_other_than_utf8_fails_saying_browsers_refuse_it(
    server: str, http: httpx2.Client, charset: str
) -> None:
    t = read(http, stream_url(server, charset))
    assert t.event_data() == EVENTS  # the bytes are fine: only the header is wrong
    check = checks.content_type_check(EX2, t)
    assert not check.passed
    assert "refuse" in check.message and repr(charset) in check.message
    assert "utf-8" in check.message


@pytest.mark.parametrize("charset", [None, *ACCEPTED_CHARSETS])
def test_no_charset_or_utf8_passes(server: str, http: httpx2.Client, charset: str | None) -> None:
    t = read(http, stream_url(server, charset))
    assert checks.content_type_check(EX2, t).passed, t.content_type
    assert t.event_data() == EVENTS


@pytest.mark.parametrize("coding", CODINGS)
def test_a_compressed_stream_is_decoded_event_by_event_as_it_arrives(
    server: str, http: httpx2.Client, coding: str
) -> None:
    t = read(http, stream_url(server, coding=coding))
    assert t.error is None and not t.too_large
    assert t.headers.get("content-encoding", "identity") == content_encoding(coding)
    assert t.event_data() == EVENTS
    assert [c.data for c in t.chunks] == [f"data: {e}\n\n".encode() for e in EVENTS]
    gaps = [later.t - earlier.t for earlier, later in zip(t.chunks, t.chunks[1:], strict=False)]
    assert all(gap >= SPACING / 2 for gap in gaps), gaps
    assert checks.event_chunks_check(t, EVENTS)[0].passed


def test_the_grader_asks_only_for_codings_it_decodes(server: str, http: httpx2.Client) -> None:
    reader = StreamReader(sse=False)
    t = reader.read(http, f"{server}/headers", deadline=_deadline())
    assert json.loads(t.body)["accept-encoding"] == ACCEPT_ENCODING


def test_a_compressed_bomb_stops_at_the_body_cap(server: str, http: httpx2.Client) -> None:
    t = read(http, f"{server}/bomb")
    assert t.too_large
    assert len(t.body) <= MAX_BODY_BYTES
    problem = checks.response_problem(EX2, t, READ_LIMIT, lambda: None)
    assert problem is not None and "gzip-encoded body that decodes to more than" in problem


def test_a_coding_never_asked_for_is_named(server: str, http: httpx2.Client) -> None:
    t = read(http, f"{server}/br")
    assert t.error is not None and "'br'-encoded" in t.error
    problem = checks.response_problem(EX2, t, READ_LIMIT, lambda: None)
    assert problem is not None and "'br'-encoded" in problem


# --- the whole grader on a submission ------------------------------------------------------


def checks_of(folder: Path, ex: Exercise) -> dict[str, dict[str, Any]]:
    """One exercise's checks, by name, as ``python -m grader`` reports them."""
    done = grader("--format", "json", "--exercise", ex.id, str(folder))
    (exercise,) = report(done)["submissions"][0]["exercises"]
    return {check["name"]: check for check in exercise["checks"]}


@pytest.mark.parametrize("ex", [EX2, EX3], ids=lambda ex: ex.id)
def test_a_submission_streaming_gzip_per_event_passes(tmp_path: Path, ex: Exercise) -> None:
    """The grader's AI client hands out each token only once the last event arrived: decoded."""
    folder = make_submission(tmp_path / "student", {ex: reference(ex) + GZIP_EVERYTHING})
    checks = checks_of(folder, ex)
    assert checks and all(c["passed"] for c in checks.values()), checks


@pytest.mark.parametrize("case", ["ex3_buffered", "ex2_one_chunk"])
def test_compression_hides_no_mistake(tmp_path: Path, case: str) -> None:
    expected = json.loads((WRONG / case / "expected.json").read_text(encoding="utf-8"))
    ex = exercise(expected["exercise"])
    source = (WRONG / case / ex.filename).read_text(encoding="utf-8") + GZIP_EVERYTHING
    checks = checks_of(make_submission(tmp_path / "student", {ex: source}), ex)
    assert expected["fails"]
    assert [name for name in expected["fails"] if checks[name]["passed"]] == [], checks


def test_a_submission_sending_latin1_fails_saying_browsers_refuse_it(tmp_path: Path) -> None:
    source = reference(EX2).replace(
        '"text/event-stream"', '"text/event-stream; charset=iso-8859-1"'
    )
    assert source != reference(EX2)
    folder = make_submission(tmp_path / "student", {EX2: source})
    checks = checks_of(folder, EX2)
    assert not checks["content-type"]["passed"]
    assert "refuse" in checks["content-type"]["message"]


# --- Chromium's EventSource on the same streams --------------------------------------------

LISTEN = """async (url) => await new Promise((resolve) => {
  const source = new EventSource(url);
  const messages = [];
  let opened = false;
  const finish = (timedOut) => { source.close(); resolve({opened, messages, timedOut}); };
  source.onopen = () => { opened = true; };
  source.onmessage = (event) => { messages.push(event.data); };
  source.onerror = () => finish(false);
  setTimeout(() => finish(true), %d);
})"""
LISTEN_MS = 8000


@pytest.fixture(scope="module")
def chromium_page(server: str) -> Iterator[Any]:
    with chromium(30_000) as browser:
        tab = browser.new_page()
        tab.goto(server)
        yield tab


def shown_by_chromium(tab: Any, url: str) -> list[str]:
    """The message events Chromium's EventSource fires for the URL."""
    seen = tab.evaluate(LISTEN % LISTEN_MS, url)
    assert not seen["timedOut"], seen
    return seen["messages"]


@pytest.mark.browser
@pytest.mark.parametrize("charset", [None, *ACCEPTED_CHARSETS, *REFUSED_CHARSETS])
def test_chromium_and_the_grader_agree_on_the_charset(
    chromium_page: Any, server: str, http: httpx2.Client, charset: str | None
) -> None:
    url = stream_url(server, charset)
    assert shown_by_grader(read(http, url)) == shown_by_chromium(chromium_page, url)


@pytest.mark.browser
@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_chromium_and_the_grader_agree_on_the_content_type(
    chromium_page: Any, server: str, http: httpx2.Client, content_type: str
) -> None:
    url = f"{server}/events?type={quote(content_type)}"
    t = read(http, url)
    assert t.content_type == content_type
    assert shown_by_grader(t) == shown_by_chromium(chromium_page, url)


@pytest.mark.browser
@pytest.mark.parametrize("coding", CODINGS)
def test_chromium_and_the_grader_agree_on_a_compressed_stream(
    chromium_page: Any, server: str, http: httpx2.Client, coding: str
) -> None:
    url = stream_url(server, coding=coding)
    by_grader = shown_by_grader(read(http, url))
    assert by_grader == shown_by_chromium(chromium_page, url) == EVENTS


@pytest.mark.browser
def test_chromium_accepts_every_coding_the_grader_asks_for(chromium_page: Any, server: str) -> None:
    sent = chromium_page.evaluate("async (u) => (await fetch(u)).json()", f"{server}/headers")
    offered = {c.strip() for c in sent["accept-encoding"].split(",")}
    assert {c.strip() for c in ACCEPT_ENCODING.split(",")} <= offered
