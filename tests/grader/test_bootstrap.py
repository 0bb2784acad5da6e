"""`python3 -m grader.bootstrap lab` runs as root and as another user, and prints its URL.

The lab is started exactly as a student starts it (the bootstrap module run by a
Python interpreter, with the kit's environment already installed), on a free
loopback port, with every per-user Jupyter folder in a temporary one.
"""

import os
import signal
import subprocess
import sys

import httpx2
import pytest

from grader import bootstrap
from tests.lab_support import (
    AS_WE_ARE,
    LOOPBACK,
    ROOT_NOTE,
    RunningLab,
    bootstrap_lab,
    unprivileged,
)


def check_served(lab: RunningLab) -> None:
    """The printed URL points at this lab, serves the kit, and carries a token the lab accepts."""
    assert lab.url.startswith(f"http://{LOOPBACK}:{lab.port}/lab?token="), lab.url
    auth = {"Authorization": f"token {lab.token}"}
    assert httpx2.get(f"{lab.base}/api/status", headers=auth).status_code == 200
    assert httpx2.get(f"{lab.base}/api/contents").status_code == 403, "served without the token"
    root = httpx2.get(f"{lab.base}/api/contents", headers=auth).json()
    assert {"lessons", "exercises"} <= {item["name"] for item in root["content"]}
    assert httpx2.get(lab.url).status_code == 200, "the printed URL does not open the lab"


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="the test runs as a user without root's powers")
def test_lab_as_root_allows_root_says_so_and_prints_its_url(tmp_path):
    # Interrupted outside a terminal, the bootstrap passes SIGINT on: the lab stops too.
    with bootstrap_lab(AS_WE_ARE, tmp_path / "lab.log", stop_with=signal.SIGINT) as lab:
        check_served(lab)
    assert ROOT_NOTE in lab.log.read_text()


@pytest.mark.slow
def test_lab_as_another_user_starts_without_allow_root(tmp_path):
    with bootstrap_lab(unprivileged(), tmp_path / "lab.log") as lab:
        check_served(lab)
    log = lab.log.read_text()
    assert ROOT_NOTE not in log
    assert "--allow-root" not in log


def test_lab_url_is_read_from_the_server_info_file(tmp_path):
    info = tmp_path / "jpserver-1.json"
    assert bootstrap.lab_url(info) is None
    info.write_text('{"url": "http://127.0.0.1:8891/", "token": "a+b/c"}')
    assert bootstrap.lab_url(info) == "http://127.0.0.1:8891/lab?token=a%2Bb/c"
    info.write_text('{"url": "http://127.0.0.1:8891/base", "token": ""}')
    assert bootstrap.lab_url(info) == "http://127.0.0.1:8891/base/lab"
    info.write_text('{"url": "http://127.0.0.1:8891/", "tok')
    assert bootstrap.lab_url(info) is None


STUBBORN_LAB = """
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(600)
"""
RUN_STUBBORN_LAB = f"""
import sys
from grader import bootstrap
bootstrap.LAB_STOP_S = 1.0
lab = bootstrap.Lab([sys.executable, "-c", {STUBBORN_LAB!r}])
sys.exit(lab.wait())
"""


def test_a_lab_that_ignores_the_stop_signal_is_killed_after_a_grace():
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_STUBBORN_LAB],
        cwd=bootstrap.ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGKILL
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert "did not stop within 1 s; killing it" in process.stderr.read()
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # nothing of the lab is left
