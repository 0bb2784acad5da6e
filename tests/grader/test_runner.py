"""One server per submission, all its exercise apps behind one socket; a new one when it is lost.

The runner grades a submission's exercises one after another against a single
jailed server; a module that kills or hangs that server costs only its own
exercise, because the exercises still to grade get a new one.
"""

from __future__ import annotations

import textwrap
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from grader.exercises import EXERCISES
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.probe import EXERCISE_HEADER, Dispatch
from grader.runner import grade_submission, grading_order
from grader.sandbox import Limits
from tests.grader.helpers import make_submission, reference, serving

QUICK = Limits(timeout=3.0)


def verdicts(folder: Path, limits: Limits = QUICK) -> dict[str, tuple[bool, str]]:
    """Each exercise's verdict and failure messages, graded the way the command line does."""
    result = grade_submission(folder, limits)
    return {
        ex.id: (ex.passed, " | ".join(c.message for c in ex.checks if not c.passed))
        for ex in result.exercises
    }


# --- Dispatch, in-process --------------------------------------------------------------------


def named_app(name: str, started: list[str]) -> FastAPI:
    """An app that says its name, and notes its startup in ``started``."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        started.append(name)
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/who")
    def who() -> str:
        return name

    return app


def test_dispatch_routes_by_the_exercise_header_and_starts_every_app() -> None:
    started: list[str] = []
    apps = {"ex1": named_app("one", started), "ex2": named_app("two", started)}
    with TestClient(Dispatch(apps)) as client:
        assert sorted(started) == ["one", "two"]
        assert client.get("/who", headers={EXERCISE_HEADER: "ex1"}).json() == "one"
        assert client.get("/who", headers={EXERCISE_HEADER: "ex2"}).json() == "two"
        missing = client.get("/who")
        assert missing.status_code == 404
        assert EXERCISE_HEADER in missing.json()["detail"]
        assert client.get("/who", headers={EXERCISE_HEADER: "ex3"}).status_code == 404


def test_an_app_whose_startup_fails_does_not_stop_the_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @asynccontextmanager
    async def broken_lifespan(_app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    broken = FastAPI(lifespan=broken_lifespan)
    fine = named_app("fine", [])
    with TestClient(Dispatch({"ex1": broken, "ex2": fine})) as client:
        assert client.get("/who", headers={EXERCISE_HEADER: "ex2"}).json() == "fine"
    assert "ex1: lifespan startup failed" in capsys.readouterr().err


# --- one server, restarted when lost -----------------------------------------------------------


def test_exercise_3_is_graded_first() -> None:
    assert grading_order(EXERCISES) == (EX3, EX1, EX2)
    assert grading_order((EX2, EX1)) == (EX2, EX1)


@pytest.mark.timeout(60)
def test_a_module_that_kills_the_server_at_import_costs_only_its_exercise(tmp_path: Path) -> None:
    # Exercise 2 is imported last, after 3 and 1 loaded: both are served again by a new server.
    crash = reference(EX2) + "\nimport os\nos._exit(5)\n"
    got = verdicts(make_submission(tmp_path / "sub", {EX2: crash}))
    assert got["ex1"] == (True, "")
    assert got["ex3"] == (True, "")
    assert not got["ex2"][0]
    assert "exited with status 5" in got["ex2"][1]


@pytest.mark.timeout(60)
def test_a_module_that_blocks_the_event_loop_for_good_costs_only_its_exercise(
    tmp_path: Path,
) -> None:
    # Exercise 1 is graded before 2: its endpoint never gives the loop back, so exercise 2
    # gets a fresh server instead of a loop that cannot answer.
    frozen = textwrap.dedent(
        """
        import time

        from fastapi import FastAPI

        app = FastAPI()
        lines = ["alpha"]


        @app.get("/lines")
        async def stream_lines():
            time.sleep(3600)
        """
    )
    got = verdicts(make_submission(tmp_path / "sub", {EX1: frozen}))
    assert not got["ex1"][0]
    assert "sent no response within 3 s" in got["ex1"][1], got["ex1"][1]
    assert got["ex2"] == (True, "")
    assert got["ex3"] == (True, "")


@pytest.mark.timeout(60)
def test_a_module_that_fails_to_import_leaves_the_server_to_the_others(tmp_path: Path) -> None:
    broken = reference(EX1) + "\nraise ValueError('not today')\n"
    got = verdicts(make_submission(tmp_path / "sub", {EX1: broken}))
    assert "raised ValueError: not today" in got["ex1"][1]
    assert got["ex2"] == (True, "")
    assert got["ex3"] == (True, "")


@pytest.mark.timeout(60)
def test_every_exercise_is_reported_when_the_server_is_replaced(tmp_path: Path) -> None:
    # Exercise 3 (graded first) hangs the loop, so exercise 1 gets a new server; exercise 2,
    # which failed to import in the first one, must still be reported.
    frozen = textwrap.dedent(
        """
        import time

        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/tokens")
        async def stream_tokens(prompt: str = "Say hello"):
            time.sleep(3600)
        """
    )
    broken = reference(EX2) + "\nraise RuntimeError('half done')\n"
    got = verdicts(make_submission(tmp_path / "sub", {EX3: frozen, EX2: broken}))
    assert set(got) == {"ex1", "ex2", "ex3"}
    assert "sent no response within 3 s" in got["ex3"][1]
    assert "raised RuntimeError: half done" in got["ex2"][1]
    assert got["ex1"] == (True, "")


# --- blame on the module that did it ---------------------------------------------------------

# Module-level code that opens files until the server has no descriptor left, and keeps them.
HOARD_DESCRIPTORS = """
import os

_hoard = []
try:
    while True:
        _hoard.append(os.open(os.devnull, os.O_RDONLY))
except OSError:
    pass
"""


@pytest.mark.timeout(120)
def test_a_module_that_uses_up_the_descriptors_at_import_costs_only_its_exercise(
    tmp_path: Path,
) -> None:
    # Exercise 1 is imported after 3 and before 2: 2 cannot even be read in that server.
    hoarder = reference(EX1) + HOARD_DESCRIPTORS
    got = verdicts(make_submission(tmp_path / "sub", {EX1: hoarder}))
    assert not got["ex1"][0]
    assert got["ex2"] == (True, "")
    assert got["ex3"] == (True, "")


@pytest.mark.timeout(120)
def test_an_exercise_after_one_that_used_up_the_descriptors_gets_a_fresh_server(
    tmp_path: Path,
) -> None:
    # Exercise 3 is graded first; after each of its requests, no descriptor is left free.
    source = reference(EX3) + textwrap.dedent(
        """

        import os

        _hoard = []


        @app.middleware("http")
        async def use_up_descriptors(request, call_next):
            response = await call_next(request)
            try:
                while True:
                    _hoard.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                pass
            return response
        """
    )
    got = verdicts(make_submission(tmp_path / "sub", {EX3: source}))
    assert got["ex1"] == (True, "")
    assert got["ex2"] == (True, "")


LIFESPAN_FOREVER = """
import asyncio
from contextlib import asynccontextmanager


@asynccontextmanager
async def _forever(_app):
    await asyncio.Event().wait()
    yield


app.router.lifespan_context = _forever
"""


@pytest.mark.timeout(120)
def test_an_app_whose_lifespan_never_finishes_fails_its_own_exercise(tmp_path: Path) -> None:
    # Exercise 1's app starts after every module imported, exercise 2's last of all.
    got = verdicts(make_submission(tmp_path / "sub", {EX1: reference(EX1) + LIFESPAN_FOREVER}))
    assert not got["ex1"][0]
    assert "lifespan startup did not finish within 3 s" in got["ex1"][1]
    assert got["ex2"] == (True, "")
    assert got["ex3"] == (True, "")


@pytest.mark.timeout(120)
def test_two_slow_imports_each_within_the_limit_both_pass(tmp_path: Path) -> None:
    # Each import takes 60% of the limit: together they overrun one server's start.
    slow = "\nimport time\ntime.sleep(1.8)\n"
    folder = make_submission(
        tmp_path / "sub", {EX1: reference(EX1) + slow, EX2: reference(EX2) + slow}
    )
    got = verdicts(folder)
    assert got == {"ex1": (True, ""), "ex2": (True, ""), "ex3": (True, "")}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("hoarding", [False, True])
def test_a_server_holding_nearly_all_its_descriptors_is_not_used_again(
    tmp_path: Path, hoarding: bool
) -> None:
    # Leaves the server the few descriptors it needs to start and answer one request.
    nearly_all = textwrap.dedent(
        """
        import os
        import resource

        _most = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        _hoard = [os.open(os.devnull, os.O_RDONLY) for _ in range(_most - 40)]
        """
    )
    source = reference(EX1) + (nearly_all if hoarding else "")
    folder = make_submission(tmp_path / "sub", {EX1: source})
    with serving(folder, (EX1, EX2)) as box:
        assert box.wait_ready() == {}
        assert box.client(EX1).get(EX1.path).status_code == 200
        assert box.usable(EX2, after_failure=False) is not hoarding


PING_BOMB = """
import sys
import zlib

_compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
_BOMB = b"".join(_compressor.compress(bytes(1 << 20)) for _ in range(256)) + _compressor.flush()
_probe = sys.modules["grader.probe"]
_send_json = _probe._send_json


async def _bombing(send, status, payload):
    if payload != {"ok": True}:
        await _send_json(send, status, payload)
        return
    headers = [(b"content-encoding", b"gzip"), (b"content-length", str(len(_BOMB)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _BOMB})


_probe._send_json = _bombing
"""


@pytest.mark.timeout(60)
def test_a_ping_answered_with_a_gzip_bomb_is_refused_unopened(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "sub", {EX1: reference(EX1) + PING_BOMB})
    with serving(folder, (EX1, EX2)) as box:
        assert box.wait_ready() == {}
        tracemalloc.start()
        try:
            usable = box.usable(EX2, after_failure=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert usable is False
    assert peak < 16 << 20  # the answer inflates to 256 MiB
