"""The server's status channel, read as hostile input: validated, capped, never a deadline.

The unit tests feed a real pipe; the sandbox tests start real jailed servers
whose modules write to the channel what an attacker would.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from grader.errors import ServerLost, ServerSplit
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.runner import grade_submission
from grader.sandbox import Limits
from grader.status import (
    FAILED,
    IMPORTING,
    MAX_LINE,
    MAX_MESSAGES,
    READY,
    STARTING,
    Startup,
    Status,
    StatusReader,
    parse,
)
from tests.grader.helpers import make_submission, serving, with_code

PLAN = (EX3, EX1, EX2)
SLACK = 2.0  # a loaded machine may be late to notice a deadline; never by this much


def line(message: object) -> bytes:
    """A message as the jail writes it."""
    return json.dumps(message).encode()


# --- what a message may be ---------------------------------------------------------------


def test_the_jail_s_messages_are_understood():
    assert parse(line({"importing": "ex1"}), PLAN) == Status(IMPORTING, EX1)
    assert parse(line({"starting": "ex3"}), PLAN) == Status(STARTING, EX3)
    failed = {"failed": "ex2", "error": "ex2 raised", "details": "Traceback"}
    assert parse(line(failed), PLAN) == Status(FAILED, EX2, "ex2 raised", "Traceback")
    assert parse(line({"ready": True}), PLAN) == Status(READY)


GARBAGE = {
    "a list": b"[42]",
    "a number": b"42",
    "not json": b"{importing: ex1}",
    "not utf-8": b'{"importing": "\xff\xfe"}',
    "an id not planned": line({"importing": "ex9"}),
    "an id of another type": line({"importing": 1}),
    "an id in a list": line({"importing": ["ex1"]}),
    "two kinds at once": line({"importing": "ex1", "ready": True}),
    "an unknown key": line({"importing": "ex1", "server": 1}),
    "ready that is not true": line({"ready": 1}),
    "a failure without its error": line({"failed": "ex1"}),
    "an error of another type": line({"failed": "ex1", "error": ["x"], "details": ""}),
    "too long an error": line({"failed": "ex1", "error": "x" * 5000, "details": ""}),
    "too long details": line({"failed": "ex1", "error": "", "details": "x" * 9000}),
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "a huge number": b'{"importing": 1' + b"0" * 5000 + b"}",
}


@pytest.mark.parametrize("case", GARBAGE)
def test_anything_else_is_refused_without_raising(case):
    assert parse(GARBAGE[case], PLAN) is None


# --- reading the pipe --------------------------------------------------------------------


def reader_of(data: bytes, plan: tuple = PLAN) -> StatusReader:
    """A reader of a pipe that holds ``data`` and is then closed."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    written = 0
    try:
        while written < len(data):  # the pipe holds 64 KiB: write the rest as it is read
            written += os.write(write, data[written : written + 65536])
    except BlockingIOError:
        pytest.fail("the test's data must fit the pipe; feed longer data from a thread")
    os.close(write)
    return StatusReader(read, plan)


def test_garbage_between_messages_is_skipped_and_counted():
    data = b"\n".join([b"[42]", line({"importing": "ex3"}), b"nonsense", line({"ready": True})])
    reader = reader_of(data + b"\n")
    deadline = time.monotonic() + 5
    assert reader.next(deadline) == Status(IMPORTING, EX3)
    assert reader.next(deadline) == Status(READY)
    assert reader.next(deadline) is None
    assert reader.ignored == 2
    assert reader.ended


def test_a_line_longer_than_the_cap_is_dropped_without_being_kept(tmp_path: Path):
    read, write = os.pipe()
    reader = StatusReader(read, PLAN)
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child only writes)
        os.close(read)
        os.write(write, b"x" * (16 * MAX_LINE) + b"\n" + line({"ready": True}) + b"\n")
        os._exit(0)
    os.close(write)
    try:
        assert reader.next(time.monotonic() + 10) == Status(READY)
        assert len(reader._buffer) <= MAX_LINE + 65536
        assert reader.ignored == 1
    finally:
        os.waitpid(pid, 0)
        os.close(read)


def test_a_flood_of_messages_ends_the_reading():
    data = line({"importing": "ex3"}) + b"\n"
    reader = reader_of(data * (MAX_MESSAGES + 10))
    deadline = time.monotonic() + 5
    got = [reader.next(deadline) for _ in range(MAX_MESSAGES + 1)]
    assert got[:MAX_MESSAGES] == [Status(IMPORTING, EX3)] * MAX_MESSAGES
    assert got[MAX_MESSAGES] is None


def test_the_reader_waits_no_longer_than_the_deadline():
    read, write = os.pipe()
    try:
        started = time.monotonic()
        assert StatusReader(read, PLAN).next(started + 0.3) is None
        assert 0.3 <= time.monotonic() - started < 0.3 + SLACK
    finally:
        os.close(read)
        os.close(write)


# --- stages only go forward --------------------------------------------------------------


def test_stages_go_forward_only_and_each_once():
    startup = Startup(PLAN, started=0.0, limit=10.0)
    assert startup.at_work() == (IMPORTING, EX3)
    assert startup.first_at_work()
    assert startup.deadline == 10.0
    assert startup.advance(Status(IMPORTING, EX3), 0.5)  # the jail's first word: the limit runs
    assert startup.deadline == 10.5
    assert startup.advance(Status(IMPORTING, EX1), 1.5)
    assert not startup.advance(Status(IMPORTING, EX1), 2.0)  # again: no new time
    assert not startup.advance(Status(IMPORTING, EX3), 3.0)  # backwards
    assert startup.at_work() == (IMPORTING, EX1)
    assert not startup.first_at_work()
    assert startup.time_before() == 1.0
    assert startup.advance(Status(FAILED, EX1, "boom", ""), 5.0)
    assert startup.at_work() is None
    assert not startup.advance(Status(STARTING, EX1), 6.0)  # a failed module has no app
    assert startup.advance(Status(STARTING, EX3), 7.0)
    assert startup.at_work() == (STARTING, EX3)
    assert not startup.advance(Status(IMPORTING, EX2), 8.0)  # imports come before lifespans
    assert startup.deadline == 10.5  # and no message moved it


def test_a_later_stage_named_first_does_not_start_the_limit():
    startup = Startup(PLAN, started=0.0, limit=10.0)
    assert startup.advance(Status(IMPORTING, EX1), 4.0)
    assert startup.deadline == 10.0


# --- in a real sandbox -------------------------------------------------------------------

# Writes ``MESSAGES`` to every pipe the module can write to, every 0.2 s for ``SECONDS``.
CHANNEL_WRITER = """
import fcntl, os, stat, time

def _channels():
    for fd in range(3, 1024):
        try:
            writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and writable:
                yield fd
        except OSError:
            pass

_end = time.monotonic() + SECONDS
while True:
    for _fd in _channels():
        for _message in MESSAGES:
            try:
                os.write(_fd, _message)
            except OSError:
                pass
    if time.monotonic() >= _end:
        break
    time.sleep(0.2)
"""


def channel_writer(messages: list[bytes], seconds: float) -> str:
    """Module-level code that writes ``messages`` to the status channel for ``seconds``."""
    return f"MESSAGES = {messages!r}\nSECONDS = {seconds}\n{CHANNEL_WRITER}"


@pytest.mark.timeout(60)
def test_forged_importing_messages_do_not_stretch_the_import_deadline(tmp_path: Path):
    stretch = with_code(channel_writer([line({"importing": "ex1"}) + b"\n"], seconds=6))
    folder = make_submission(tmp_path / "sub", {EX1: stretch})
    started = time.monotonic()
    with serving(folder, (EX1,), Limits(timeout=2)) as box, pytest.raises(ServerLost) as lost:
        box.wait_ready()
    assert time.monotonic() - started < 2 + SLACK
    assert lost.value.ex is EX1
    assert "did not finish importing within 2 s" in lost.value.message


@pytest.mark.timeout(60)
def test_garbage_on_the_status_channel_is_ignored(tmp_path: Path):
    garbage = [
        b"[42]\n",
        b"x" * (4 * MAX_LINE) + b"\n",
        line({"importing": "ex9"}) + b"\n",
        line({"failed": "ex2", "error": "forged", "details": ""}) + b"\n",
        b"[" * 50_000 + b"\n",
    ]
    noisy = with_code(channel_writer(garbage, seconds=0))
    folder = make_submission(tmp_path / "sub", {EX1: noisy})
    with serving(folder, (EX1, EX2)) as box:
        assert box.wait_ready() == {}
        assert box.client(EX2).get(EX2.path).status_code == 200


LIFESPAN_FOREVER = """
import asyncio
from contextlib import asynccontextmanager


@asynccontextmanager
async def _forever(_app):
    await asyncio.Event().wait()
    yield


app.router.lifespan_context = _forever
"""


@pytest.mark.timeout(60)
def test_a_lifespan_that_never_finishes_fails_its_own_exercise(tmp_path: Path):
    folder = make_submission(tmp_path / "sub", {EX2: with_code(LIFESPAN_FOREVER, EX2)})
    with serving(folder, (EX1, EX2), Limits(timeout=2)) as box, pytest.raises(ServerLost) as lost:
        box.wait_ready()
    assert lost.value.ex is EX2
    assert "lifespan startup did not finish within 2 s" in lost.value.message


@pytest.mark.timeout(60)
def test_a_slow_start_after_another_module_took_time_is_retried_alone(tmp_path: Path):
    # Each import takes 60% of the limit: neither is too slow, but together they are.
    slow = "import time\ntime.sleep(1.2)\n"
    folder = make_submission(
        tmp_path / "sub", {EX1: with_code(slow, EX1), EX2: with_code(slow, EX2)}
    )
    with serving(folder, (EX1, EX2), Limits(timeout=2)) as box, pytest.raises(ServerSplit) as split:
        box.wait_ready()
    assert split.value.exercises == (EX2,)


# Fails to import, and takes the server down before it is ready.
FAIL_THEN_DIE = """
import os
import sys

sys.modules["grader.jail"]._serve = lambda *args: os._exit(3)
raise ValueError("not today")
"""


@pytest.mark.timeout(60)
def test_a_server_that_dies_after_its_only_import_failed_is_blamed_on_that_module(
    tmp_path: Path,
) -> None:
    folder = make_submission(tmp_path / "sub", {EX1: with_code(FAIL_THEN_DIE)})
    with serving(folder, (EX1,)) as box, pytest.raises(ServerLost) as lost:
        box.wait_ready()
    assert lost.value.ex is EX1
    assert "exited with status 3" in lost.value.message


@pytest.mark.timeout(120)
def test_modules_that_all_fail_and_kill_the_server_are_each_blamed(tmp_path: Path) -> None:
    sources = {ex: with_code(FAIL_THEN_DIE, ex) for ex in PLAN}
    result = grade_submission(make_submission(tmp_path / "sub", sources), Limits(timeout=5))
    assert [e.passed for e in result.exercises] == [False, False, False]
