"""Exercise 5 (challenge): pick up where you left off, with ``id:`` and ``Last-Event-ID``.

``GET /updates`` streams one event per element of ``updates``, each with an id,
and a reconnect that sends ``Last-Event-ID`` goes on right after that event, as
in FastAPI's tutorial on resuming with ``Last-Event-ID`` (``fastapi.sse``).

The grader is the browser. It draws the updates from the seed and sends them
with every request (the probe puts them in place of the module's ``updates``),
and then, as an ``EventSource`` does (WHATWG HTML, "Server-sent events": the
last event ID buffer, an id holding NULL ignored, an id kept by the events
without one):

1. reads the whole stream: its events must be the updates, each in a chunk of
   its own, each with an id no other event has;
2. connects again with ``Accept: text/event-stream``, reads k events (k drawn
   from the seed, 2 <= k < n) and hangs up;
3. reconnects with ``Last-Event-ID: <the last id it saw>``: the stream must go on
   with event k+1 and end after the last;
4. once that stream ended, reconnects with the last id it saw there, as a
   browser does: nothing more may come (a 204 also tells a browser to stop
   reconnecting), which fails ids that name other events on another connection;
5. reconnects with an id the server never sent (made up, never a number): the
   server cannot place it, so it starts over (every update, each with its id,
   so the client may drop the ones it has), or refuses it with 204 or a 4xx,
   which a browser reports to the page. Sending nothing, or some of the
   updates, would lose updates silently. FastAPI's tutorial declares the header
   an int, and FastAPI refuses such an id with 422.

Every verdict compares event data the grader drew and read: ids may be any
strings, they only have to be there, distinct, and name the same event on
every connection. The result's timeline holds the three connections of steps
2 to 4 on one clock, ``reconnects`` saying when the second and third opened.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from types import ModuleType

from grader import checks, fixtures
from grader.exercises.base import Exercise
from grader.grading import Target, response_check
from grader.probe import INPUTS_HEADER, Probe, encode_inputs
from grader.results import Check, Chunk, ExerciseResult
from grader.sse import EventStreamParser
from grader.transcript import StreamReader, Transcript

UPDATE_COUNT = (4, 7)  # the module's own list holds 5: a drawn list of 5 differs in text
LAST_EVENT_ID = "Last-Event-ID"
# What a browser's EventSource sends with every request of an event stream.
BROWSER_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
QUERY_NAME = "last_event_id"  # what a parameter declared without Header() reads instead
REFUSALS = (204, *range(400, 500))  # answers that make a browser stop and tell the page
ID_LETTERS = "abcdefghjkmnpqrstuvwxyz"
ID_CHARACTERS = ID_LETTERS + "0123456789"
DEFAULT_UPDATES = ("order placed", "payment confirmed", "packed", "shipped", "delivered")

HINT = (
    "Give every event an id (ServerSentEvent(raw_data=update, id=str(number))) and declare "
    "the header as a parameter: last_event_id: Annotated[str | None, Header()] = None. "
    "When it names an id you sent, start with the event right after that one (the one whose "
    "id it is was already shown); when it is missing, or names an id you never sent, start "
    "from the first update. Stop after the last update: a browser reconnects with the last "
    "id and must then get nothing more."
)
NUDGES = {
    "ids": "Look at what each event carries besides its data: what would a browser send back?",
    "resume": "Look at where the stream starts when the request carries a Last-Event-ID.",
    "caught up": "Look at what the stream sends when the Last-Event-ID is the last event's.",
    "unknown id": "Look at what the stream does with a Last-Event-ID it cannot find.",
}


def updates(seed: int) -> tuple[str, ...]:
    """The ``updates`` of one grading: 4 to 7 distinct phrases, none starting with a space."""
    rng = fixtures.rng(seed, "ex5", "updates")
    count = rng.randint(*UPDATE_COUNT)
    return fixtures.distinct(rng, count, lambda: fixtures.phrase(rng, rng.randint(1, 4)))


def resume_after(seed: int, count: int) -> int:
    """How many events the grader reads before it hangs up: 2 <= k < count.

    Not 1: a stream that resumes at the event whose id came back would then be the
    same as one that starts over, and the message could not say which it is.
    """
    return fixtures.rng(seed, "ex5", "resume").randint(2, count - 1)


def never_sent(seed: int, sent: set[str]) -> str:
    """An id no connection of this grading received, drawn from the seed (longer if taken).

    Never a number: a server that numbers its events may send that one later (a live
    feed would), so only an id it could not have made is surely one it never sent.
    """
    rng = fixtures.rng(seed, "ex5", "unknown")
    candidate = rng.choice(ID_LETTERS) + "".join(rng.choice(ID_CHARACTERS) for _ in range(11))
    while candidate in sent:
        candidate += secrets.choice(ID_CHARACTERS)
    return candidate


@dataclass(frozen=True)
class Connection:
    """One request of the grader as a browser: what it sent as Last-Event-ID and what came."""

    last_event_id: str | None
    transcript: Transcript

    @property
    def data(self) -> list[str]:
        """The data of the events received."""
        return self.transcript.event_data()

    @property
    def ids(self) -> list[str]:
        """Each event's id as a browser gives it (``lastEventId``)."""
        return [event.id for _, event in self.transcript.events]

    def browser_last_id(self) -> str:
        """The last event ID a browser holds after what was received: what it would send back.

        Read from the whole body received, so an id line after the last event counts too.
        """
        parser = EventStreamParser()
        parser.feed(self.transcript.body)
        return parser.last_event_id


@dataclass(frozen=True)
class Browser:
    """The grader as a browser's EventSource, for one grading: whom it asks, and the updates."""

    target: Target
    values: tuple[str, ...]  # sent with every request, in place of the module's ``updates``

    def connect(
        self,
        last_event_id: str | None = None,
        *,
        stop_after: int | None = None,
        params: dict[str, str] | None = None,
    ) -> Connection:
        """Request /updates as an EventSource would, with ``Last-Event-ID`` when one is given.

        ``stop_after``: hang up once that many events arrived.
        """
        headers: dict[str, str | bytes] = {
            **BROWSER_HEADERS,
            INPUTS_HEADER: encode_inputs(self.values),
        }
        if last_event_id:  # a browser sends the header only when its last event ID is not empty,
            headers[LAST_EVENT_ID] = last_event_id.encode()  # and sends it UTF-8 encoded
        reader = StreamReader(sse=True)
        reader.read(
            self.target.client,
            EXERCISE.path,
            self.target.deadline(),
            stop_after_events=stop_after,
            headers=headers,
            params=params or {},
        )
        return Connection(last_event_id, reader.transcript)

    def problem(self, connection: Connection) -> str | None:
        """Why a connection's response failed as a response (status, broken, endless), or None."""
        target = self.target
        return checks.response_problem(
            EXERCISE, connection.transcript, target.timeout, target.server_error
        )


@dataclass(frozen=True)
class Session:
    """One grading of exercise 5: the browser, and the stream it read from the start."""

    browser: Browser
    stream: Connection  # read without Last-Event-ID, to its end

    @property
    def full(self) -> list[str]:
        """The data of the whole stream's events."""
        return self.stream.data


def _numbered(first: int, items: list[str]) -> tuple[str, ...]:
    """Items numbered from ``first``, for a side-by-side view."""
    return checks.shown_lines([f"{first + n}: {item}" for n, item in enumerate(items)])


def _sent(connection: Connection) -> str:
    """The header a connection sent, as a message quotes it."""
    return f"{LAST_EVENT_ID}: {checks.short(connection.last_event_id)}"


def ids_check(full: Connection) -> Check:
    """Every event carries an id of its own, as a browser sees it."""
    ids = full.ids
    if not ids:
        return Check("ids", False, "No event came, so no id either.", nudge=NUDGES["ids"])
    missing = [n for n, event_id in enumerate(ids, start=1) if not event_id]
    if len(missing) == len(ids):
        return Check(
            "ids",
            False,
            f"None of the {checks.plural(len(ids), 'event')} carries an id: a browser that "
            f"loses the connection reconnects without {LAST_EVENT_ID}, so the stream can "
            "only start over. Give every event an id: line (ServerSentEvent(id=...)).",
            nudge=NUDGES["ids"],
        )
    if missing:
        return Check(
            "ids",
            False,
            f"Event {missing[0]} of {len(ids)} has no id (a browser's lastEventId is empty "
            f"there), so a reconnect after it sends no {LAST_EVENT_ID} and starts over. "
            "Give every event an id.",
            nudge=NUDGES["ids"],
        )
    seen: dict[str, int] = {}
    for number, event_id in enumerate(ids, start=1):
        if event_id in seen:
            return Check(
                "ids",
                False,
                f"Events {seen[event_id]} and {number} both have the id "
                f"{checks.short(event_id)} (a browser keeps the last id for an event without "
                "an id: line): a reconnect with it cannot say which of them the client saw "
                "last. Give every event an id no other event has.",
                nudge=NUDGES["ids"],
                actual=_numbered(1, ids),
            )
        seen[event_id] = number
    return Check("ids", True, f"Each of the {len(ids)} events has an id of its own.")


def resume_check(session: Session, first: Connection, second: Connection) -> Check:
    """After k events and a hang-up, the reconnect goes on with event k+1, ending after the last."""
    k, full = len(first.data), session.full
    if not k:
        return Check(
            "resume",
            False,
            "The grader connected again to read a few events, and none came.",
            nudge=NUDGES["resume"],
        )
    where = f"After {checks.plural(k, 'event')} the grader hung up and reconnected with "
    where += _sent(second)
    if problem := session.browser.problem(second):
        return Check("resume", False, f"{where}: {problem}", nudge=NUDGES["resume"])
    if second.data == full[k:]:
        return Check(
            "resume",
            True,
            f"{where}; the stream went on with event {k + 1} and ended after the last "
            f"({len(full)}).",
        )
    return Check(
        "resume",
        False,
        f"{where}; a browser would fire {checks.plural(len(second.data), 'event')} with data "
        f"{checks.short(second.data)}. {_resumed_problem(session, first, second)}",
        nudge=NUDGES["resume"],
        expected=_numbered(k + 1, full[k:]),
        actual=_numbered(1, second.data),
    )


def _resumed_problem(session: Session, first: Connection, second: Connection) -> str:
    """Why the resumed stream is not the rest of the stream."""
    k, full, got = len(first.data), session.full, second.data
    if got == full and not str(second.last_event_id).isascii():
        return (
            f"It started over from the first event: the id {_sent(second)} is not ASCII. A "
            "browser sends it as UTF-8 bytes and Starlette reads header bytes as Latin-1, so "
            "the server sees another string and cannot find it. Keep ids ASCII."
        )
    if got == full and first.ids != session.stream.ids[: len(first.ids)]:
        return (
            "It started over from the first event: the id names no event it knows, since the "
            f"ids change from one connection to the next (event 1 was "
            f"{checks.short(session.stream.ids[0])}, then {checks.short(first.ids[0])}). An id "
            "must name the same event on every connection."
        )
    if got == full:
        return (
            f"It started over from the first event: the server ignored {_sent(second)}"
            f"{_query_hint(session, first)}, so a browser shows every update again after "
            "each reconnect."
        )
    if got == full[k - 1 :]:
        return (
            f"It repeated event {k} ({checks.short(full[k - 1])}), the one whose id the "
            "browser sent back, which it had already shown. Start after that event, not at it."
        )
    if got == full[k + 1 :]:
        return (
            f"It skipped event {k + 1} ({checks.short(full[k])}): the id names the last "
            "event the browser received, and the next one is the first it has not seen."
        )
    return (
        f"Expected the {checks.plural(len(full) - k, 'event')} after event {k}, from event "
        f"{k + 1} to the last ({len(full)})."
    )


def _query_hint(session: Session, first: Connection) -> str:
    """Where the stream resumes for the id as a query parameter: say so, a browser cannot."""
    rest = session.full[len(first.data) :]
    probe = session.browser.connect(params={QUERY_NAME: first.browser_last_id()})
    if rest and probe.data == rest:
        return (
            f" (it resumes when the id comes as ?{QUERY_NAME}=…, a query parameter, but a "
            "browser sends it only as a header: declare the parameter with Header())"
        )
    return ""


def caught_up_check(session: Session, resumed: Connection, last: Connection) -> Check:
    """A reconnect with the last id the browser saw gets nothing more (200 with no event, or 204).

    That id is the resumed connection's last, as a browser's would be once that one ended.
    """
    where = "Once the stream ended, the grader reconnected with the last id it had seen "
    where += f"({_sent(last)}), as a browser does"
    if last.transcript.status == 204:
        return Check("caught up", True, f"{where}: 204, so a browser stops reconnecting.")
    if problem := session.browser.problem(last):
        return Check("caught up", False, f"{where}: {problem}", nudge=NUDGES["caught up"])
    if not last.data:
        return Check("caught up", True, f"{where}: no event came, the browser has them all.")
    full = session.full
    again = "every update again" if last.data == full else checks.plural(len(last.data), "event")
    renamed = resumed.ids != session.stream.ids[len(full) - len(resumed.ids) :]
    why = (
        " The resumed connection gave its events other ids than the whole stream did "
        f"({checks.short(resumed.ids)} for {checks.short(session.stream.ids[-len(resumed.ids) :])}"
        "): an id must name the same event on every connection."
        if renamed and resumed.ids
        else ""
    )
    return Check(
        "caught up",
        False,
        f"{where}: it sent {again} ({checks.short(last.data)}), though the browser already "
        f"had all {len(full)}. Nothing comes after the last event.{why}",
        nudge=NUDGES["caught up"],
        actual=_numbered(1, last.data),
    )


def unknown_id_check(session: Session, unknown: Connection) -> Check:
    """An id never sent: start over with every update, or refuse it with 204 or a 4xx."""
    where = f"Reconnected with an id this stream never sent ({_sent(unknown)})"
    status = unknown.transcript.status
    if status in REFUSALS:
        return Check(
            "unknown id", True, f"{where}: refused with {status}, so a browser stops and says so."
        )
    advice = "Start over from the first update, or refuse the id with a 4xx."
    if problem := session.browser.problem(unknown):
        return Check(
            "unknown id",
            False,
            f"{where}: {problem} An id the server cannot place must not break the stream. {advice}",
            nudge=NUDGES["unknown id"],
        )
    full, got = session.full, unknown.data
    if got == full:
        return Check("unknown id", True, f"{where}: it started over with every update.")
    what = (
        "no event at all: the client, whose place is unknown, misses every update (and a "
        "browser reconnects again and again)"
        if not got
        else f"{checks.plural(len(got), 'event')} ({checks.short(got)}), only some of the "
        "updates: the client misses the others"
    )
    return Check(
        "unknown id",
        False,
        f"{where}: it sent {what}. The server cannot know what the client has. {advice}",
        nudge=NUDGES["unknown id"],
        expected=_numbered(1, full),
        actual=_numbered(1, got),
    )


def timeline(*connections: Connection) -> tuple[list[Chunk], list[float]]:
    """The connections' chunks on the first one's clock, and when each later one opened."""
    start = connections[0].transcript.started
    chunks: list[Chunk] = []
    opened: list[float] = []
    for connection in connections:
        offset = connection.transcript.started - start
        chunks += [Chunk(chunk.t + offset, chunk.data) for chunk in connection.transcript.chunks]
        opened.append(offset)
    return chunks, opened[1:]


def grade(target: Target) -> ExerciseResult:
    """Every check of exercise 5: the stream with its ids, then three reconnects."""
    seed = target.seed.value
    values = updates(seed)
    browser = Browser(target, values)
    full = browser.connect()
    session = Session(browser, full)
    t = full.transcript
    found = [response_check(EXERCISE, t, target)]
    if not found[0].passed:
        return _result(found, full)
    found += [
        checks.content_type_check(EXERCISE, t),
        checks.events_check(EXERCISE, t, list(values)),
        *checks.event_chunks_check(t, list(values)),
        ids_check(full),
    ]
    if not found[-1].passed:  # without an id on every event, no reconnect can resume
        return _result(found, full)
    first = browser.connect(stop_after=resume_after(seed, len(full.data)))
    second = browser.connect(first.browser_last_id())
    found.append(resume_check(session, first, second))
    third = browser.connect(second.browser_last_id() or full.browser_last_id())
    found.append(caught_up_check(session, second, third))
    sent = {*full.ids, *first.ids, *second.ids, *third.ids}
    found.append(unknown_id_check(session, browser.connect(never_sent(seed, sent))))
    return _result(found, first, second, third)


def _result(found: list[Check], *connections: Connection) -> ExerciseResult:
    """The exercise's result; its timeline the connections that show what went wrong."""
    chunks, reconnects = timeline(*connections)
    return ExerciseResult(
        id=EXERCISE.id,
        checks=found,
        timeline=chunks,
        reconnects=reconnects,
        max_score=EXERCISE.max_score,
    )


class ResumeExercise(Exercise):
    """Exercise 5's hooks: ``updates`` replaced per request, and the reconnects."""

    def serve(self, module: ModuleType, feed_fd: int | None) -> Probe:
        """The app behind the probe, which puts the request's updates in place of ``updates``."""
        return Probe(module.app, self.filename, inputs=(module, self.data_source))

    def grade(self, target: Target) -> ExerciseResult:
        """Every check of the exercise."""
        return grade(target)


EXERCISE = ResumeExercise(
    id="ex5",
    module="ex5_resume_last_event_id",
    title="Pick up where you left off",
    method="GET",
    path="/updates",
    media_type="text/event-stream",
    hint=HINT,
    challenge=True,
    nudges=NUDGES,
    data_source="updates",
    data_default=DEFAULT_UPDATES,
)
