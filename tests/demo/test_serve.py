"""Running uvicorn for a `with` block: in a thread or a child process, always stopped after."""

import socket
import threading
from pathlib import Path

import httpx2
import psutil
import pytest
from uvicorn.importer import ImportFromStringError

from lessons.demo.serve import HOST, serve_in_process, serve_in_thread
from lessons.demo.sse_client import watch_events


def port_of(url: str) -> int:
    return httpx2.URL(url).port


def refuses_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((HOST, port)) != 0


def test_thread_server_serves_on_loopback_then_stops():
    with serve_in_thread("lessons.demo.app:app") as url:
        assert httpx2.URL(url).host == HOST
        assert httpx2.get(f"{url}/stream", timeout=5).text.startswith("chunk 1\n")
    assert refuses_connections(port_of(url))


def test_thread_servers_get_different_free_ports():
    with (
        serve_in_thread("lessons.demo.app:app") as one,
        serve_in_thread("lessons.demo.app:app") as two,
    ):
        assert port_of(one) != port_of(two)


def test_thread_server_stops_even_with_a_stream_still_open():
    with httpx2.Client(timeout=10) as http:
        with serve_in_thread("lessons.demo.app:app") as url:
            request = http.build_request("GET", f"{url}/job/progress?steps=100&delay=2")
            response = http.send(request, stream=True)
            assert response.status_code == 200
        try:
            assert refuses_connections(port_of(url))
        finally:
            response.close()


def test_thread_server_lets_a_stream_finish_within_the_grace_period():
    received = []

    def read_job(url):
        with httpx2.Client(timeout=10) as http:
            received.extend(a.event.event for a in watch_events(http, url))

    # The job runs 3.2 s, longer than the default grace period; this server allows 10 s.
    with serve_in_thread("lessons.demo.app:app", graceful_shutdown_s=10) as url:
        reader = threading.Thread(target=read_job, args=(f"{url}/job/progress?steps=4&delay=0.8",))
        reader.start()
        while not received and reader.is_alive():  # stop once the stream is under way
            reader.join(0.05)
    reader.join(10)
    assert received == ["message"] * 4 + ["done"]


def test_thread_server_with_an_unimportable_app_fails_clearly():
    with pytest.raises(ImportFromStringError, match="no_such_module"):  # noqa: SIM117
        with serve_in_thread("no_such_module:app"):
            pass


def test_process_server_runs_in_its_own_process_and_is_stopped(tmp_path: Path):
    with serve_in_process("lessons.demo.app:app") as server:
        child = psutil.Process(server.pid)
        assert child.pid != psutil.Process().pid
        assert httpx2.get(f"{server.url}/events", timeout=5).text.startswith("data: event 1")
    assert not psutil.pid_exists(server.pid) or child.status() == psutil.STATUS_ZOMBIE
    assert refuses_connections(port_of(server.url))


def test_process_server_with_an_unimportable_app_fails_clearly():
    with pytest.raises(RuntimeError, match="stopped before it was ready"):  # noqa: SIM117
        with serve_in_process("no_such_module:app"):
            pass
