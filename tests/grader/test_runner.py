"""One server per submission, all its exercise apps behind one socket; a new one when it is lost.

The runner grades a submission's exercises one after another against a single
jailed server; a module that kills or hangs that server costs only its own
exercise, because the exercises still to grade get a new one.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from grader.contract import EX1, EX2, EX3, EXERCISES
from grader.probe import EXERCISE_HEADER, Dispatch
from grader.runner import grade_submission, grading_order
from grader.sandbox import Limits
from tests.grader.test_sandbox import make_submission, reference

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
