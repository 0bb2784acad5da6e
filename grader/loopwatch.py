"""Whether a submission's event loop stays free, judged from two streams seen from outside.

The grader requests /tokens twice at once (the second request with the first
few of the same tokens, each with a prompt of its own); its token feed releases
each stream's next token as soon as that stream's last event arrived. One event
loop serves both, so while one stream's generator works, the other's next token
is often already waiting to be read.

The grader's AI client acknowledges each token the moment the loop reads it,
and answers the feed's pings (sent every few milliseconds while a request is in
flight, and to the later request the grader makes on its own) the same way,
before the submission's code sees anything. A free loop does that within a
millisecond, whatever the generator legitimately awaits (an ``await
asyncio.sleep``, even one that depends on the token); a late answer is time the
loop spent elsewhere: on a ``time.sleep`` or a synchronous client, before or
after a yield, in either stream, or while a stream runs on its own. Answers
later than ``MIN_ACK_DELAY`` count as blocked time, the union of their spans
(two streams waiting out one block count it once).

The rounds are compared too, every time on the grader's own clock: from the
response's head to the first event, from releasing token k to event k, and from
releasing the last token to the end of the response. A round in which one stream
waited about as much longer as the other took at all (``min(a, b, |a - b|)``,
the part of the two waits that ran one after the other) counts that much as
blocked; rounds below ``MIN_BLOCK`` are a busy machine's scheduling. The verdict
takes the larger of the two figures.

No figure the server reports about itself, and none it could inflate, enters
either: both are times on the grader's clock. Acknowledgements and pings are
answered by grader code inside the server, so a submission that took the feed's
protocol into a thread of its own could answer them while its loop is blocked;
then only the rounds see the block, where it holds one stream's events back
behind the other's.

The rounds need a server that writes an event out as soon as the app sends it,
as uvicorn does. Starlette's TestClient hands each chunk over through the app's
own event loop, so there a blocked loop holds both streams' events back alike
and the rounds look even; the acknowledgements still see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.settings import MIN_ACK_DELAY, MIN_BLOCK

Span = tuple[float, float]  # when something was sent to the server, when it answered


@dataclass
class StreamTimes:
    """One stream's milestones on the grader's clock (time.monotonic)."""

    start: float = 0.0  # the response's head arrived (or the request was sent)
    releases: list[float] = field(default_factory=list)  # token k left the feed
    arrivals: list[float] = field(default_factory=list)  # event k reached the client
    end: float | None = None  # the response was over
    acks: list[float] = field(default_factory=list)  # the server acknowledged token k
    pongs: list[Span] = field(default_factory=list)  # each ping: sent, answered

    def answers(self) -> list[Span]:
        """Each token's release and acknowledgement, then each ping and its answer."""
        return [*zip(self.releases, self.acks, strict=False), *self.pongs]

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

    def __init__(
        self, first: StreamTimes, second: StreamTimes, alone: tuple[Span, ...] = ()
    ) -> None:
        self.first = first
        self.second = second
        self.alone = alone  # the pings of a later stream the server served on its own

    def rounds(self) -> list[tuple[float, float]]:
        """Each round's pair of waits, for the rounds both streams reached."""
        a, b = self.first.waits(), self.second.waits()
        return [(a[name], b[name]) for name in a if name in b]

    def serialized(self) -> list[float]:
        """Per round, how long the two waits ran one after the other."""
        return [min(a, b, abs(a - b)) for a, b in self.rounds()]

    def answers(self) -> list[Span]:
        """Every acknowledgement and ping of both streams (and of one on its own)."""
        return [*self.first.answers(), *self.second.answers(), *self.alone]

    def delays(self) -> list[float]:
        """How late each acknowledgement and ping was answered."""
        return [max(0.0, answered - sent) for sent, answered in self.answers()]

    def with_alone(self, pongs: list[Span]) -> LoopWatch:
        """This watch, with the pings of a stream the server then served on its own."""
        return LoopWatch(self.first, self.second, tuple(pongs))

    def blocked_seconds(self) -> float:
        """How long the loop was seen blocked: by the rounds, or by the acknowledgements.

        Each figure counts only waits beyond noise; the larger one is the verdict's.
        """
        rounds = sum(s for s in self.serialized() if s >= MIN_BLOCK)
        return max(rounds, answered_late(self.answers()))

    def longest(self) -> float:
        """The longest single wait the loop caused, in seconds."""
        return max([*self.serialized(), *self.delays()], default=0.0)

    def summary(self) -> str:
        """Round-by-round waits, for the instructor."""
        shown = ", ".join(f"{a * 1000:.0f}/{b * 1000:.0f}" for a, b in self.rounds())
        acks = ", ".join(f"{d * 1000:.0f}" for d in self.delays() if d >= MIN_BLOCK) or "none"
        return (
            f"{len(self.rounds())} rounds of two concurrent streams, waits in ms: {shown}; "
            f"{len(self.delays())} acknowledgements and pings answered, late ones (ms): {acks}; "
            f"blocked {self.blocked_seconds():.3f} s "
            f"(round waits under {MIN_BLOCK * 1000:.0f} ms and acknowledgements under "
            f"{MIN_ACK_DELAY * 1000:.0f} ms ignored)"
        )


def answered_late(spans: list[Span]) -> float:
    """How long late answers show the loop blocked: the union of their spans, in seconds.

    Two streams' pings outstanding during one block are one block, not two.
    """
    late = sorted((sent, answered) for sent, answered in spans if answered - sent >= MIN_ACK_DELAY)
    total, reached = 0.0, float("-inf")
    for sent, answered in late:
        total += max(0.0, answered - max(sent, reached))
        reached = max(reached, answered)
    return total


def thread_wakeups(pid: int) -> dict[int, int] | None:
    """How often each thread of a process has gone to sleep and woken, so far.

    Read from the kernel's accounting in /proc (voluntary context switches), which
    nothing inside the process can lower. None when the process cannot be read.
    """
    try:
        tids = [int(tid.name) for tid in Path(f"/proc/{pid}/task").iterdir()]
    except (OSError, ValueError):
        return None
    counts = {}
    for tid in tids:
        try:
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                counts[tid] = int(line.split()[1])
    return counts


def worker_wakeups(pid: int, before: dict[int, int], after: dict[int, int]) -> int:
    """How often threads other than the main one (the event loop's) woke in between."""
    return sum(count - before.get(tid, 0) for tid, count in after.items() if tid != pid)
