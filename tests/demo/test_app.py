"""The demo app: the lesson's endpoints, the job stream, the page; in-process and over HTTP."""

import json
import threading

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from grader.sse import parse_event_stream
from lessons.demo import app as demo
from lessons.demo.serve import serve_in_thread
from lessons.demo.sse_client import watch_events
from lessons.examples import events, progress, stream

GATE_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def client():
    return TestClient(demo.app)


@pytest.mark.parametrize(
    ("path", "example"), [("/stream", stream), ("/events", events), ("/progress", progress)]
)
def test_lesson_endpoints_answer_as_in_their_example_apps(client, path, example):
    expected = TestClient(example.app).get(path)
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == expected.headers["content-type"]
    assert r.text == expected.text


def test_lesson_endpoints_are_the_example_functions_themselves():
    served = {route.path: route.endpoint for route in demo.app.routes if hasattr(route, "endpoint")}
    for example in (stream, events, progress):
        for route in example.app.routes:
            if route.path in ("/stream", "/events", "/progress"):
                assert served[route.path] is route.endpoint


def test_job_streams_one_message_per_step_then_done(client):
    r = client.get("/job/progress", params={"steps": 4, "delay": 0})
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    assert r.text.endswith("\n\n")
    messages = parse_event_stream(r.content)
    assert [m.event for m in messages] == ["message"] * 4 + ["done"]
    updates = [json.loads(m.data) for m in messages[:-1]]
    assert [u["step"] for u in updates] == [1, 2, 3, 4]
    assert [u["percent"] for u in updates] == [25, 50, 75, 100]
    assert json.loads(messages[-1].data) == {"steps": 4}


def test_job_percent_reaches_100_for_uneven_step_counts(client):
    r = client.get("/job/progress", params={"steps": 7, "delay": 0})
    updates = [json.loads(m.data) for m in parse_event_stream(r.content) if m.event == "message"]
    percents = [u["percent"] for u in updates]
    assert percents == sorted(percents)
    assert percents[-1] == 100


@pytest.mark.parametrize(
    "params",
    [{"steps": 0}, {"steps": demo.MAX_STEPS + 1}, {"delay": -1}, {"delay": "slow"}],
)
def test_job_rejects_bad_parameters_with_a_clear_error(client, params):
    r = client.get("/job/progress", params=params)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["query", next(iter(params))]


def test_page_is_html_that_watches_the_job_with_eventsource(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "new EventSource(" in r.text
    assert "job/progress" in r.text
    assert "source.close()" in r.text


def test_events_over_http_arrive_spread_over_time(demo_url, http):
    steps, delay = 5, 0.3
    url = f"{demo_url}/job/progress?steps={steps}&delay={delay}"
    arrivals = list(watch_events(http, url))
    assert [a.event.event for a in arrivals] == ["message"] * steps + ["done"]
    first, last = arrivals[0].seconds, arrivals[steps - 1].seconds
    # The server sleeps (steps - 1) * delay between its first and last step; a buffered
    # response would deliver all of them together. Half of that spread is a loose floor.
    assert last - first >= 0.5 * (steps - 1) * delay, [a.seconds for a in arrivals]


def test_bytes_over_http_match_what_testclient_collects(client, demo_url, http):
    path = "/job/progress?steps=3&delay=0"
    with http.stream("GET", demo_url + path) as r:
        raw = b"".join(r.iter_raw())
    assert raw.decode() == client.get(path).text


def test_first_event_arrives_before_the_server_produces_the_last():
    gate, produced_last = threading.Event(), threading.Event()

    def gated_events():
        yield demo.sse_message({"step": 1})
        gate.wait(GATE_TIMEOUT_S)  # held until the client has the first event
        produced_last.set()
        yield demo.sse_message({"step": 2})

    gated = FastAPI()

    @gated.get("/events")
    def gated_stream():
        return StreamingResponse(gated_events(), media_type="text/event-stream")

    with serve_in_thread(gated) as url, httpx2.Client() as http:
        seen = []
        for arrival in watch_events(http, f"{url}/events"):
            seen.append((json.loads(arrival.event.data)["step"], produced_last.is_set()))
            gate.set()
    assert seen == [(1, False), (2, True)]
