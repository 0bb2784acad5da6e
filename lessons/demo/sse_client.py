"""Read Server-Sent Events from a real HTTP response as they arrive, noting when each one came.

The bytes are parsed by the kit's browser-exact parser (`grader.sse`), so what is printed here
is what the page's `EventSource` dispatches.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2

from grader.sse import Event, EventStreamParser

READ_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Arrival:
    """An event and how many seconds after the request was sent it arrived."""

    seconds: float
    event: Event


def watch_events(client: httpx2.Client, url: str) -> Iterator[Arrival]:
    """GET `url` as a stream and yield each event with its arrival time, as soon as it lands."""
    parser = EventStreamParser()
    started = time.perf_counter()
    with client.stream("GET", url, timeout=READ_TIMEOUT_S) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            for event in parser.feed(chunk):
                yield Arrival(time.perf_counter() - started, event)
    parser.close()
