"""Whether a submission's event loop stays free, judged from two streams seen from outside.

The grader requests /tokens twice at once, with the same tokens and prompts of
their own, and its token feed releases the two streams' tokens in lock step:
token k of either only once both requests received k events. One event loop
serves both. If nothing in the app blocks it, each round's two events arrive
together, however long the generator legitimately awaits between tokens (an
``await asyncio.sleep``, even one that depends on the token, delays both alike).
If the app blocks the loop (``time.sleep`` in an ``async def``, a synchronous
client), the two cannot advance together: one stream's work waits until the
other's block is over, so in each round one event arrives a whole block after
the other.

Besides, the grader's AI client acknowledges each token the moment the loop
reads it, before the submission's code sees it: a free loop does that within a
millisecond whatever the generator then awaits, so a late acknowledgement is
time the loop spent elsewhere (on the other stream's ``time.sleep``, say). That
catches a block after the yield too, and works where delivery itself needs the
loop (Starlette's TestClient, in-process). The acknowledgement is written by
grader code inside the server: a submission that took the feed's protocol into
a thread of its own could answer it while its loop is blocked, and then only
the rounds below judge it.

Each round compares the two streams' waits, every time on the grader's own
clock: from the response's head to the first event, from releasing token k to
event k, and from releasing the last token to the end of the response. A round
in which one stream waited about as much longer as the other took at all
(``min(a, b, |a - b|)``, the part of the two waits that ran one after the other)
counts that much as blocked; rounds below ``MIN_BLOCK`` are a busy machine's
scheduling and count nothing. No figure the server reports about itself, and
none it could inflate, enters either sum: both are times on the grader's clock,
and a proxy or a lying probe in the server cannot make two blocked streams
arrive together.

The rounds need a server that writes an event out as soon as the app sends it,
as uvicorn does. Starlette's TestClient hands each chunk over through the app's
own event loop, so there a blocked loop holds both streams' events back alike
and the rounds look even; the acknowledgements still see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# A round in which the streams ran one after the other for less than this is noise:
# a loaded machine can hold a process off its CPU for a few scheduler slices.
MIN_BLOCK = 0.02
# An acknowledgement later than this means the loop was held; a single late one on a
# loaded machine (the server off its CPU for a few slices) stays under it.
MIN_ACK_DELAY = 0.05


@dataclass
class StreamTimes:
    """One stream's milestones on the grader's clock (time.monotonic)."""

    start: float = 0.0  # the response's head arrived (or the request was sent)
    releases: list[float] = field(default_factory=list)  # token k left the feed
    arrivals: list[float] = field(default_factory=list)  # event k reached the client
    end: float | None = None  # the response was over
    acks: list[float] = field(default_factory=list)  # the server acknowledged token k

    def ack_delays(self) -> list[float]:
        """How long after its release each token was acknowledged: the loop's own delay."""
        return ack_delays(self.releases, self.acks)

    def waits(self) -> dict[str, float]:
        """The stream's wait in each round it reached: first event, each later event, its end."""
        waits = {"first": self.arrivals[0] - self.start} if self.arrivals else {}
        for k in range(1, min(len(self.arrivals), len(self.releases))):
            waits[f"token {k}"] = max(0.0, self.arrivals[k] - self.releases[k])
        if self.end is not None:
            last = self.releases[-1] if self.releases else self.start
            waits["end"] = max(0.0, self.end - last)
        return waits


class LoopWatch:
    """Compares two concurrent streams round by round; the time they ran one after the other."""

    def __init__(self, first: StreamTimes, second: StreamTimes) -> None:
        self.first = first
        self.second = second

    def rounds(self) -> list[tuple[float, float]]:
        """Each round's pair of waits, for the rounds both streams reached."""
        a, b = self.first.waits(), self.second.waits()
        return [(a[name], b[name]) for name in a if name in b]

    def serialized(self) -> list[float]:
        """Per round, how long the two waits ran one after the other."""
        return [min(a, b, abs(a - b)) for a, b in self.rounds()]

    def delays(self) -> list[float]:
        """Every acknowledgement delay of both streams."""
        return self.first.ack_delays() + self.second.ack_delays()

    def blocked_seconds(self) -> float:
        """How long the loop was seen blocked: by the rounds, or by the acknowledgements.

        Each figure counts only waits beyond noise; the larger one is the verdict's.
        """
        rounds = sum(s for s in self.serialized() if s >= MIN_BLOCK)
        return max(rounds, acknowledged_block(self.delays()))

    def longest(self) -> float:
        """The longest single wait the loop caused, in seconds."""
        return max([*self.serialized(), *self.delays()], default=0.0)

    def summary(self) -> str:
        """Round-by-round waits, for the instructor."""
        shown = ", ".join(f"{a * 1000:.0f}/{b * 1000:.0f}" for a, b in self.rounds())
        acks = ", ".join(f"{d * 1000:.0f}" for d in self.delays())
        return (
            f"{len(self.rounds())} rounds of two concurrent streams, waits in ms: {shown}; "
            f"token acknowledgements after (ms): {acks}; blocked {self.blocked_seconds():.3f} s "
            f"(round waits under {MIN_BLOCK * 1000:.0f} ms and acknowledgements under "
            f"{MIN_ACK_DELAY * 1000:.0f} ms ignored)"
        )


def ack_delays(releases: list[float], acks: list[float]) -> list[float]:
    """How long after its release each token was acknowledged."""
    return [max(0.0, ack - sent) for ack, sent in zip(acks, releases, strict=False)]


def acknowledged_block(delays: list[float]) -> float:
    """The time late acknowledgements show the loop blocked (known while streams run)."""
    return sum(d for d in delays if d >= MIN_ACK_DELAY)
