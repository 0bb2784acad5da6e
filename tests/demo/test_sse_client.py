"""Timing Server-Sent Events read over real HTTP, event by event."""

import asyncio

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from lessons.demo.serve import serve_in_thread
from lessons.demo.sse_client import watch_events

SPLIT_PAUSE_S = 0.2


def test_each_arrival_is_timed_in_order(demo_url, http):
    arrivals = list(watch_events(http, f"{demo_url}/job/progress?steps=3&delay=0.05"))
    assert [a.event.event for a in arrivals] == ["message"] * 3 + ["done"]
    seconds = [a.seconds for a in arrivals]
    assert seconds == sorted(seconds)
    assert seconds[0] > 0


def test_an_event_split_across_chunks_arrives_when_its_blank_line_does():
    async def halves():
        yield "data: hal"
        await asyncio.sleep(SPLIT_PAUSE_S)
        yield "f\n\n"

    split = FastAPI()

    @split.get("/split")
    async def split_stream():
        return StreamingResponse(halves(), media_type="text/event-stream")

    with serve_in_thread(split) as url, httpx2.Client() as http:
        arrivals = list(watch_events(http, f"{url}/split"))
    assert [a.event.data for a in arrivals] == ["half"]
    # The first half left at once; the event only exists once the rest arrived.
    assert arrivals[0].seconds >= 0.9 * SPLIT_PAUSE_S


def test_an_error_status_raises(demo_url, http):
    with pytest.raises(httpx2.HTTPStatusError, match="422"):
        list(watch_events(http, f"{demo_url}/job/progress?steps=0"))
