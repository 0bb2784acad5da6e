"""Exercise 6 (challenge): export without holding it, a CSV of hundreds of MiB in constant memory.

``GET /export.csv`` streams, as ``text/csv``, what ``csv.writer`` (its default
dialect: fields quoted when they hold a comma, a quote or a line break, lines
ending in CRLF) writes for each row ``rows()`` yields, the header row first,
encoded in UTF-8.

The grader puts its own ``rows`` in the module before each request (through the
inputs header it sends only the rows' parameters, drawn from the seed: a few
names and cities, some with commas, quotes, line breaks and accents, the words
of a note text, a row count). Its rows make an export of 200 MiB or more, each
row made fresh as it is asked for, so an answer that keeps the rows or the text
grows with them. The grader then:

1. notes what the sandbox holds and resets its peak (``grader.memory``: its
   cgroup, else the server's /proc entry);
2. reads the whole response, asked uncompressed, comparing it byte by byte with
   what it computes itself, row by row, as the bytes arrive: it keeps neither
   the body (only the rows still to compare, and a bounded timeline) nor reads
   past the end of the export, and samples the sandbox's memory meanwhile;
3. reads the peak: it may exceed what the sandbox held before the request by
   at most ``MEMORY_LIMIT``.

A right answer sent the export in 4 to 5 s on two busy cores, most of it in
csv.writer, while the grader spent about 1 s of CPU and 31 MiB reading it. The
one request may take the exercise's whole budget (three timeouts), and the
server's CPU limit holds it whatever it does.

Where the grader has no such measure (in-process, through TestClient, or a
machine that gives it neither cgroup nor /proc), the export is small, the
content is still checked, and the memory check fails saying it could not be
measured: it never passes on a guess.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from grader import checks, fixtures
from grader.exercises.base import Exercise
from grader.probe import INPUTS_HEADER, Probe, decode_inputs, encode_inputs
from grader.results import TIMELINE_BYTES, TIMELINE_CHUNKS, Check, Chunk, ExerciseResult, Omitted
from grader.transcript import Transcript

if TYPE_CHECKING:
    from starlette.types import Scope

    from grader.grading import MemoryGauge, Target

MiB = 1 << 20
# How much the sandbox's memory may grow while it streams the export. A streamed export
# holds a row or a batch of rows at a time (tens of KiB), plus what the server's first
# big response costs it once (buffers, lazily imported modules): a few MiB. An answer that
# keeps the export (rows, text or bytes) grows by 200 MiB or more, three times that for
# a joined string encoded at the end. 64 MiB keeps far from both.
MEMORY_LIMIT = 64 * MiB
EXPORT_BYTES = (200 * MiB, 208 * MiB)  # the body's size, drawn per grading
SMALL_EXPORT_BYTES = (1 * MiB, 2 * MiB)  # when the memory cannot be measured: content only
NOTE_BYTES = 64_000  # characters of each row's notes: ~4,500 rows make the export
NOTE_SHIFT = 251  # each row's notes start at its own offset of the note text
COLUMNS = ("id", "customer", "city", "notes")
SAMPLE_GAP = 0.02  # seconds between two readings of the sandbox's memory while the body arrives
LATE_START = 0.5  # share of the response's time after which a first byte shows a body built first
EXPORT_TIMEOUTS = 3  # the export is one request: it may use the exercise's whole budget
# What the server's death or error says when it ran out of memory (grader.sandbox, loader).
OUT_OF_MEMORY = ("out of memory", "MemoryError", "more than the memory limit")
SHOWN_BYTES = 60  # bytes shown on each side of a difference
# Latin-1 letters only: every row stays a one-byte-per-character str in the server,
# so an answer that builds the body peaks at a measurable ~3 times its size, below the
# sandbox's memory limit, instead of being killed before it can be measured.
FIRST_NAMES = (
    "Zoë", "Jürgen", "Ana", "François", "Søren", "Inès", "José", "Björk", "Mårten", "Dana",
)  # fmt: skip
LAST_NAMES = ("Müller", "O'Brien", "Dupont", "Núñez", "Smith", "Lefèvre", "Åberg", "Kim")
CITIES = (
    "Zürich", "São Paulo", "Malmö", "Köln", "Reykjavík", "Montréal", "Oslo", "Lyon",
    "Tromsø", "Genève", "Washington, D.C.", "Bogotá",
)  # fmt: skip
NOTE_WORDS = (
    "shipped", "on time", "fragile", "gift wrap", "call first", "left at door", "signed",
    "returned", "paid by card", "invoice sent", "backorder", "priority",
)  # fmt: skip
NAME_COUNT = (6, 9)
CITY_COUNT = (4, 7)

HINT = (
    'Return StreamingResponse(generate(), media_type="text/csv") where generate() writes one '
    "row at a time: a csv.writer on a small io.StringIO, writer.writerow(row), yield "
    "buffer.getvalue(), then empty the buffer (buffer.seek(0); buffer.truncate(0)) before the "
    'next row. Never collect first: a list of rows, "".join(...) or a StringIO filled '
    "before the first yield holds the whole export in memory. csv.writer also quotes the "
    'fields that hold commas, quotes or line breaks, which a ",".join(row) does not.'
)
NUDGES = {
    "response": "Look at what the endpoint builds before it returns: does it wait for the "
    "whole export?",
    "rows": "Compare the row the message shows with what csv.writer writes for it: quoting, "
    "line endings, encoding.",
    "memory": "Look at where the rows go before they reach the response: a list, a joined "
    "string or a StringIO filled before the first yield grows with the export.",
}


@dataclass(frozen=True)
class ExportPlan:
    """The parameters of one export's rows: all a server needs to make them, none of the seed."""

    rows: int
    names: tuple[str, ...]
    cities: tuple[str, ...]
    words: str  # ASCII, with commas and without quotes: repeated, they make the note text

    @functools.cached_property
    def note(self) -> str:
        """The note text, NOTE_BYTES long: each row's notes are its end from some point on."""
        return (self.words * (NOTE_BYTES // len(self.words) + 1))[:NOTE_BYTES]

    def to_inputs(self) -> tuple[str]:
        """The plan as the inputs header carries it."""
        return (json.dumps(dataclasses.asdict(self)),)

    @classmethod
    def from_inputs(cls, values: list[str]) -> ExportPlan | None:
        """The plan an inputs header carried, or None when it holds none."""
        try:
            spec = json.loads(values[0])
            plan = cls(
                int(spec["rows"]),
                tuple(map(str, spec["names"])),
                tuple(map(str, spec["cities"])),
                str(spec["words"]),
            )
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        return plan if plan.names and plan.cities and plan.words else None

    def picks(self, i: int) -> tuple[int, int, int]:
        """Row ``i``'s name, its city, and where its notes start in the note text."""
        return (
            i % len(self.names),
            (i * 7) % len(self.cities),
            (i * NOTE_SHIFT) % NOTE_BYTES // 2,
        )

    def row(self, i: int) -> tuple[int, str, str, str]:
        """Row ``i`` (from 1): its notes a fresh string, as a database row would be."""
        name, city, start = self.picks(i)
        return (i, self.names[name], self.cities[city], f"{self.note[start:]} #{i}")

    def generate(self) -> Iterator[tuple[Any, ...]]:
        """The header, then every row, each made as it is asked for."""
        yield COLUMNS
        for i in range(1, self.rows + 1):
            yield self.row(i)

    def lines(self) -> Iterator[bytes]:
        """What csv.writer's default dialect writes for each row, in UTF-8, computed fast.

        The names and cities are quoted once by csv itself; the notes need quotes
        (they hold commas) and no doubling (they hold no quote), so each line is one
        format. ``tests`` compare this with csv.writer row by row.
        """
        names = [_csv_field(name) for name in self.names]
        cities = [_csv_field(city) for city in self.cities]
        yield _csv_line(COLUMNS)
        for i in range(1, self.rows + 1):
            name, city, start = self.picks(i)
            yield f'{i},{names[name]},{cities[city]},"{self.note[start:]} #{i}"\r\n'.encode()


def _csv_line(row: tuple[Any, ...]) -> bytes:
    """One row as csv.writer's default dialect writes it, in UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue().encode()


def _csv_field(value: str) -> str:
    """One field as csv.writer writes it among others (quoted when it must be)."""
    return _csv_line(("", value)).decode()[1:].removesuffix("\r\n")


def draw_plan(seed: int, *, measured: bool) -> ExportPlan:
    """The export's rows for this grading: 200 MiB or more when its memory is measured."""
    rng = fixtures.rng(seed, "ex6", "rows")
    first = list(FIRST_NAMES)
    rng.shuffle(first)
    shapes = ("{last}, {first}", '{first} "{nick}" {last}', "{first} {last}\nc/o {nick}")
    shapes += ("{first} {last}",) * (rng.randint(*NAME_COUNT) - len(shapes))
    names = tuple(
        shape.format(first=first[k], last=rng.choice(LAST_NAMES), nick=rng.choice(first))
        for k, shape in enumerate(shapes)
    )
    cities = tuple(rng.sample(CITIES, rng.randint(*CITY_COUNT)))
    words = ", ".join(rng.sample(NOTE_WORDS, 5)) + ". "
    size = rng.randint(*(EXPORT_BYTES if measured else SMALL_EXPORT_BYTES))
    plan = ExportPlan(0, tuple(rng.sample(names, len(names))), cities, words)
    notes = 0
    while notes < size:  # the notes alone make the export at least ``size`` bytes
        plan = dataclasses.replace(plan, rows=plan.rows + 1)
        notes += NOTE_BYTES - plan.picks(plan.rows)[2]
    return plan


class _ExportProbe(Probe):
    """The probe, putting the rows of each request's plan in place of the module's ``rows``."""

    def __init__(self, module: ModuleType, filename: str) -> None:
        super().__init__(module.app, filename)
        self.module = module

    def _install_inputs(self, scope: Scope) -> None:
        """Put the rows of the request's plan in place of ``rows`` (a plan, not a list of str)."""
        header = INPUTS_HEADER.encode()
        for name, value in scope.get("headers") or []:
            values = decode_inputs(value) if name == header else None
            if values is not None and (plan := ExportPlan.from_inputs(values)) is not None:
                self.module.rows = plan.generate


# --- reading the export ---------------------------------------------------------------


class _Comparison:
    """Compares a body, as it arrives, with the lines it must be; keeps only what is pending."""

    def __init__(self, lines: Iterator[bytes], total_rows: int) -> None:
        self.lines = lines
        self.total_rows = total_rows
        self.pending = bytearray()  # expected bytes not yet received
        self.rows: deque[tuple[int, int, bytes]] = deque()  # (row, offset, line) still pending
        self.offset = 0  # where ``pending`` starts in the body
        self.next_row = 0
        self.problem: str | None = None  # the first difference, in words
        self.overflowed = False  # the body went on after the last row
        self.expected: tuple[str, ...] = ()
        self.actual: tuple[str, ...] = ()

    def feed(self, data: bytes) -> None:
        """Compare the next bytes of the body."""
        if self.problem is not None or not data:
            return
        while len(self.pending) < len(data) and (line := next(self.lines, None)) is not None:
            self.rows.append((self.next_row, self.offset + len(self.pending), line))
            self.next_row += 1
            self.pending += line
        size = min(len(data), len(self.pending))
        if memoryview(self.pending)[:size] != data[:size]:
            self._differ(data, _first_difference(self.pending, data))
            return
        if size < len(data):
            self._longer(data[size:])
            return
        del self.pending[:size]
        self.offset += size
        while len(self.rows) > 1 and self.rows[1][1] <= self.offset:
            self.rows.popleft()

    def finish(self, complete: bool) -> None:
        """The body ended (``complete``) or was cut off: note what is missing."""
        if self.problem is not None or not complete:
            return
        if self.pending or next(self.lines, None) is not None:
            cut = next(
                (row for row, start, line in self.rows if start + len(line) > self.offset),
                self.next_row,
            )  # the first row not received whole (0: the header)
            self.problem = (
                f"The body ended after {self.offset:,} bytes, with {max(0, cut - 1):,} of the "
                f"{self.total_rows:,} rows after the header received whole: the rest are missing."
            )

    def _differ(self, data: bytes, index: int) -> None:
        at = self.offset + index
        row, start, line = next(r for r in reversed(self.rows) if r[1] <= at)
        column = at - start
        got = line[:column] + data[index : index + len(line) - column + SHOWN_BYTES]
        before = max(0, column - SHOWN_BYTES)
        what = "the header row" if row == 0 else f"row {row:,} of {self.total_rows:,}"
        self.problem = (
            f"The body differs from what csv.writer writes at byte {at:,}, in {what}, "
            f"{column:,} bytes into it: expected {_shown(line[before : column + SHOWN_BYTES])}, "
            f"got {_shown(got[before : column + SHOWN_BYTES])}. {_why(line[column:], got[column:])}"
        )
        self.expected = (_shown(line[before : column + SHOWN_BYTES]),)
        self.actual = (_shown(got[before : column + SHOWN_BYTES]),)

    def _longer(self, extra: bytes) -> None:
        self.overflowed = True
        self.problem = (
            f"The body goes on after the last row ({self.offset + len(self.pending):,} bytes): "
            f"more came, starting {_shown(extra[:SHOWN_BYTES])}. Send each row once, and "
            "nothing after the last."
        )


def _first_difference(expected: bytearray, data: bytes) -> int:
    """The index of the first byte where ``data`` and ``expected`` differ."""
    size = min(len(expected), len(data))
    low, high = 0, size  # the prefixes up to ``low`` are equal; a difference lies before high
    while high - low > 1:
        middle = (low + high) // 2
        if memoryview(expected)[low:middle] == data[low:middle]:
            low = middle
        else:
            high = middle
    return low if expected[low : low + 1] != data[low : low + 1] else high


def _shown(data: bytes) -> str:
    """Bytes as a reader sees them: decoded as UTF-8, escapes visible."""
    return repr(data.decode("utf-8", errors="replace"))


def _why(expected: bytes, got: bytes) -> str:
    """A guess at the mistake, from where the two texts part."""
    if expected.startswith(b"\r\n") and got.startswith(b"\n"):
        return "Lines end with \\r\\n in csv.writer's default dialect (RFC 4180)."
    if expected.startswith(b'"') or got.startswith(b'"'):
        return (
            "A field holding a comma, a quote or a line break must be quoted, and a quote in "
            "it doubled: csv.writer does that, joining the fields with ',' does not."
        )
    if expected[:1] >= b"\x80" or got[:1] >= b"\x80":
        return "The text must be encoded in UTF-8, as csv.writer's str turned into bytes."
    return "Write each row of rows() with csv.writer, in order, the header row first."


@dataclass
class Export:
    """What came back for the export: its head, how much and how fast, and its first difference."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    received: int = 0  # decoded body bytes
    chunks: int = 0
    timeline: list[Chunk] = field(default_factory=list)  # the first chunks, bounded
    omitted: Omitted = field(default_factory=Omitted)
    started: float = 0.0
    ended: float = 0.0
    error: str | None = None
    timed_out: bool = False
    complete: bool = False

    def transcript(self) -> Transcript:
        """The response's head as the generic checks read it."""
        return Transcript(status=self.status, headers=self.headers, chunks=list(self.timeline))

    def note(self, data: bytes) -> None:
        """Count one chunk; keep it only while the timeline has room, else count it."""
        chunk = Chunk(time.monotonic() - self.started, data)
        self.received += len(data)
        self.chunks += 1
        if not self.omitted.chunks and self._fits(data):  # the body's first chunks only
            self.timeline.append(chunk)
        else:  # plus() reads its size and time; the chunk itself is dropped at once
            self.omitted = self.omitted.plus([chunk])

    def _fits(self, data: bytes) -> bool:
        """True while the timeline has room for one more chunk of this size."""
        kept = sum(len(c.data) for c in self.timeline)
        return len(self.timeline) < TIMELINE_CHUNKS and kept + len(data) <= TIMELINE_BYTES


class _Sampler:
    """What the gauge reads now, sampled as the body arrives: a floor under the peak.

    The peak alone would do, but only the cgroup's cannot be reset from inside the
    sandbox: a server measured through /proc may reset its own high-water mark.
    What it holds while it sends counts either way.
    """

    def __init__(self, gauge: MemoryGauge | None) -> None:
        self.gauge = gauge
        self.most = 0
        self._next = 0.0 if gauge is not None else math.inf

    def sample(self) -> None:
        """Read the gauge, at most once per SAMPLE_GAP."""
        now = time.monotonic()
        if self.gauge is None or now < self._next:
            return
        self._next = now + SAMPLE_GAP
        try:
            self.most = max(self.most, self.gauge.current())
        except (OSError, ValueError):  # gone with its server: the peak tells the rest
            self._next = math.inf


def read_export(
    target: Target, ex: Exercise, plan: ExportPlan, deadline: float, sampler: _Sampler
) -> tuple[Export, _Comparison]:
    """Request the export with the plan's rows; compare the body with them as it arrives."""
    export = Export(started=time.monotonic())
    comparison = _Comparison(plan.lines(), plan.rows)
    # Asked uncompressed: a browser would accept gzip, but then one chunk could decode to
    # hundreds of MiB in the grader's memory, and no export that streams needs it.
    headers = {INPUTS_HEADER: encode_inputs(plan.to_inputs()), "Accept-Encoding": "identity"}
    left = max(0.0, deadline - export.started)
    try:
        with target.client.stream("GET", ex.path, headers=headers, timeout=left) as response:
            export.status = response.status_code
            export.headers = {k.lower(): v for k, v in response.headers.items()}
            coding = export.headers.get("content-encoding", "identity").strip().lower()
            if coding not in ("", "identity"):
                export.error = (
                    f"it came {coding}-encoded though the grader asked for it uncompressed "
                    "(Accept-Encoding: identity)"
                )
                return _over(export, comparison)
            # A client without read timeouts (TestClient) would wait forever: close at the deadline.
            timer = threading.Timer(left, _expire, (response, export))
            timer.daemon = True
            timer.start()
            try:
                _consume(response.iter_raw(), export, comparison, deadline, sampler)
            finally:
                timer.cancel()
                timer.join()
    except Exception as exc:  # a broken stream is a finding
        export.error = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return _over(export, comparison)


def _over(export: Export, comparison: _Comparison) -> tuple[Export, _Comparison]:
    """The reading is over: note when, and what the body lacks."""
    export.ended = time.monotonic()
    comparison.finish(export.complete)
    return export, comparison


def _consume(
    raw: Iterator[bytes], export: Export, comparison: _Comparison, end: float, sampler: _Sampler
) -> None:
    """Compare and count each chunk until the body ends, goes past the export, or time is up."""
    for data in raw:
        sampler.sample()
        chunk = bytes(data)
        export.note(chunk)
        comparison.feed(chunk)
        if comparison.overflowed:  # whatever follows, the verdict is the same
            return
        if time.monotonic() > end:
            export.timed_out = True
            return
    export.complete = not export.timed_out  # not cut off by the deadline's timer


def _expire(response: Any, export: Export) -> None:
    """The deadline passed while waiting for a chunk: give up on the response."""
    export.timed_out = True
    response.close()


# --- the checks -------------------------------------------------------------------------


def _mib(size: float) -> str:
    return f"{size / MiB:,.1f} MiB"


def response_check(
    ex: Exercise, export: Export, comparison: _Comparison, target: Target, budget: float
) -> Check:
    """The export came back 200 and ended (or went on past the export), within its time."""
    where = f"{ex.method} {ex.path}"
    took = export.ended - export.started
    if export.status == 200 and (export.complete or comparison.overflowed) and not export.timed_out:
        return Check(
            "response",
            True,
            f"{where} answered 200 and sent {_mib(export.received)} in {took:.1f} s.",
        )
    raised = target.server_error()
    cause = raised or export.error or "no response"
    if any(sign in cause for sign in OUT_OF_MEMORY):
        why = (
            f"{cause}. A streamed export holds one row at a time; this endpoint held the whole "
            "export (a list of rows, a joined string, a filled buffer) before or while sending it."
        )
    elif export.timed_out:
        why = (
            f"after {budget:.0f} s only {_mib(export.received)} had arrived. Make each row once, "
            "as it is sent, and send it at once."
        )
    elif export.status is not None and export.status != 200:
        route = f' Is it declared as @app.get("{ex.path}")?' if export.status == 404 else ""
        why = f"it answered {export.status}, expected 200.{route}" + (
            f" {raised[0].upper()}{raised[1:]}." if raised else ""
        )
    else:
        why = f"the response broke off after {_mib(export.received)}: {cause}."
    return Check("response", False, f"{where} did not stream the whole export: {why}")


def rows_check(comparison: _Comparison, export: Export) -> Check:
    """The body is exactly what csv.writer writes for the grader's rows."""
    if comparison.problem is None:
        return Check(
            "rows",
            True,
            f"The body is the grader's {comparison.total_rows:,} rows and header as csv.writer "
            f"writes them ({export.received:,} bytes).",
        )
    return Check(
        "rows",
        False,
        comparison.problem,
        expected=comparison.expected,
        actual=comparison.actual,
    )


def memory_check(
    sampler: _Sampler, before: int, export: Export, target: Target, plan: ExportPlan, whole: bool
) -> Check:
    """The sandbox's memory grew by at most MEMORY_LIMIT while it sent the whole export."""
    gauge = sampler.gauge
    if gauge is None:
        where = (
            "graded in-process, there is no sandbox to measure from outside"
            if target.server_pid is None
            else "this machine gives the grader neither the sandbox's cgroup nor the "
            "server's /proc entry to read"
        )
        return Check(
            "memory",
            False,
            f"The server's memory could not be measured ({where}), so whether the export "
            f"streams in constant memory is unknown. The content was checked on a small export "
            f"of {plan.rows:,} rows. Grade it in a sandbox (python -m grader) to measure it.",
        )
    try:
        peak = max(gauge.peak(), sampler.most)
    except (OSError, ValueError) as exc:  # a server measured through /proc may be gone
        if not sampler.most:
            return Check("memory", False, f"The server's peak memory could not be read ({exc}).")
        peak = sampler.most
    growth = max(0, peak - before)
    source = getattr(gauge, "source", "the sandbox")
    figures = (
        f"its memory peaked at {_mib(peak)}, {_mib(growth)} above the {_mib(before)} it held "
        f"before the request, while {_mib(export.received)} of export went out"
    )
    details = f"measured from outside the sandbox: {source}"
    if growth <= MEMORY_LIMIT and not whole:
        return Check(
            "memory",
            False,
            f"Not judged: the export did not come whole (see the response check), so whether "
            f"it streams in constant memory is unknown; {figures}.",
            details=details,
        )
    if growth <= MEMORY_LIMIT:
        return Check(
            "memory",
            True,
            f"Streamed in constant memory: {figures}; the limit is {_mib(MEMORY_LIMIT)}.",
            details=details,
        )
    return Check(
        "memory",
        False,
        f"The export was not streamed in constant memory: {figures}, past the "
        f"{_mib(MEMORY_LIMIT)} allowed{_late_start(export)}. A streamed export holds one row "
        "(or a small batch) at a time: this one kept rows, text or bytes of the whole export "
        "at once.",
        details=details,
        expected=(f"growth <= {_mib(MEMORY_LIMIT)}",),
        actual=(f"growth {_mib(growth)} (peak {_mib(peak)})",),
    )


def _late_start(export: Export) -> str:
    """When the body's first bytes came only after most of its time: it was built first."""
    took = export.ended - export.started
    first = export.timeline[0].t if export.timeline else None
    if first is None or first < LATE_START * took:
        return ""
    return f", and its first bytes left only after {first:.1f} s of {took:.1f} s"


class StreamCsvExport(Exercise):
    """GET /export.csv streams the grader's rows as CSV, in constant memory."""

    def serve(self, module: ModuleType, feed_fd: int | None) -> Probe:
        """The app, with each request's rows (from its inputs header) in place of ``rows``."""
        return _ExportProbe(module, self.filename)

    def grade(self, target: Target) -> ExerciseResult:
        """Read the whole export, compare it as it comes, and measure the server's memory."""
        gauge = target.memory
        plan = draw_plan(target.seed.value, measured=gauge is not None)
        before = 0
        if gauge is not None:
            try:
                before = gauge.current()
                gauge.reset_peak()
            except (OSError, ValueError):
                gauge = None
        deadline = min(target.ends_at, time.monotonic() + EXPORT_TIMEOUTS * target.timeout)
        budget = deadline - time.monotonic()
        sampler = _Sampler(gauge)
        export, comparison = read_export(target, self, plan, deadline, sampler)
        found = [response_check(self, export, comparison, target, budget)]
        if found[0].passed:
            found.append(checks.content_type_check(self, export.transcript()))
            found.append(rows_check(comparison, export))
        found.append(memory_check(sampler, before, export, target, plan, found[0].passed))
        found[0] = dataclasses.replace(found[0], details=_timing(export))
        return ExerciseResult(
            id=self.id,
            checks=found,
            timeline=export.timeline,
            max_score=self.max_score,
            omitted=export.omitted,
        )


def _timing(export: Export) -> str:
    """How the export arrived, for the instructor."""
    first = export.timeline[0].t if export.timeline else None
    began = f"first bytes after {first:.2f} s, " if first is not None else ""
    took = export.ended - export.started
    rate = export.received / MiB / took if took > 0 else 0.0
    return (
        f"{began}{export.received:,} bytes in {export.chunks:,} chunks over {took:.2f} s "
        f"({rate:.0f} MiB/s)"
    )


EXERCISE = StreamCsvExport(
    id="ex6",
    module="ex6_stream_csv_export",
    title="Export without holding it",
    method="GET",
    path="/export.csv",
    media_type="text/csv",
    hint=HINT,
    challenge=True,
    nudges=NUDGES,
    data_source="rows",
)
