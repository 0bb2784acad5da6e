"""`python3 -m grader.bootstrap lab` runs as root and as another user, and prints its URL.

The lab is started exactly as a student starts it (the bootstrap module run by a
Python interpreter, with the kit's environment already installed), on a free
loopback port, with every per-user Jupyter folder in a temporary one.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from grader import bootstrap
from tests.test_jupyterlab import JUPYTER_HOME_VARIABLES, LOOPBACK, free_port

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30
URL_LINE = re.compile(r"^bootstrap: JupyterLab is running; open (\S+)$", re.MULTILINE)
ROOT_NOTE = "running as root, so JupyterLab starts with --allow-root"
UNPRIVILEGED_USER = "nobody"


def environment_is_current() -> None:
    """Fail early, rather than let the bootstrap reinstall the kit under the test."""
    if bootstrap.installed_extras() is None:
        pytest.fail("the kit's .venv/ is not current; run `python3 -m grader.bootstrap test` first")


@contextmanager
def jupyter_home(owner: pwd.struct_passwd | None) -> Iterator[dict[str, str]]:
    """An environment whose Jupyter folders are fresh ones that ``owner`` (or root) owns."""
    base = Path(tempfile.mkdtemp(prefix="bootstrap-lab-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    for variable, folder in JUPYTER_HOME_VARIABLES.items():
        (base / folder).mkdir()
        env[variable] = str(base / folder)
    if owner is not None:
        for path in (base, *base.iterdir()):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        env["USER"] = env["LOGNAME"] = owner.pw_name
    try:
        yield env
    finally:
        shutil.rmtree(base, ignore_errors=True)


def as_user(owner: pwd.struct_passwd | None) -> list[str]:
    """The command prefix that drops root for ``owner``, or nothing to stay root."""
    if owner is None:
        return []
    return ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--clear-groups"]


def unprivileged_user() -> pwd.struct_passwd | None:
    """A user without root's powers who can run the kit's Python, or a skip saying why not."""
    if os.geteuid() != 0:
        return None  # already not root: the test runs as this user
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is missing, so the test cannot drop root")
    try:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        pytest.skip(f"there is no user {UNPRIVILEGED_USER!r} to run the lab as")
    probe = [*as_user(user), sys.executable, "-c", "import jupyterlab, grader.bootstrap"]
    done = subprocess.run(probe, capture_output=True, text=True, cwd="/", check=False)
    if done.returncode != 0:
        pytest.skip(f"user {user.pw_name} cannot run the kit's Python here: {done.stderr[-300:]}")
    return user


def wait_for_url(process: subprocess.Popen[bytes], log: Path) -> str:
    """The URL the bootstrap prints, once it does; fail with the log if it exits or stalls."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        found = URL_LINE.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            pytest.fail(f"bootstrap lab exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.2)
    pytest.fail(f"bootstrap lab printed no URL within {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


def listening(port: int) -> bool:
    """Whether something accepts connections on the loopback port."""
    with socket.socket() as sock:
        return sock.connect_ex((LOOPBACK, port)) == 0


def run_lab(owner: pwd.struct_passwd | None, tmp_path: Path) -> tuple[str, str]:
    """Start the lab as ``owner``, check it through its printed URL, stop it; return the log."""
    environment_is_current()
    port = free_port()
    log = tmp_path / "lab.log"
    command = [
        *as_user(owner),
        sys.executable,
        "-m",
        "grader.bootstrap",
        "lab",
        "--no-browser",
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
    ]
    with jupyter_home(owner) as env:
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=bootstrap.ROOT,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            url = wait_for_url(process, log)
            check_served(url, port)
        finally:
            stop(process)
        assert process.returncode == 0, f"bootstrap lab exited {process.returncode}:\n{log}"
        assert not listening(port), "JupyterLab still listens after the bootstrap stopped"
    return url, log.read_text(errors="replace")


def check_served(url: str, port: int) -> None:
    """The printed URL points at this lab and carries a token the lab accepts."""
    parts = urllib.parse.urlsplit(url)
    assert (parts.hostname, parts.port, parts.path) == (LOOPBACK, port, "/lab"), url
    token = urllib.parse.parse_qs(parts.query)["token"][0]
    base = f"{parts.scheme}://{parts.netloc}"
    status = httpx2.get(f"{base}/api/status", headers={"Authorization": f"token {token}"})
    assert status.status_code == 200, status.text
    assert httpx2.get(f"{base}/api/contents").status_code == 403, "served without the token"
    root = httpx2.get(f"{base}/api/contents?token={token}").json()
    assert {"lessons", "exercises"} <= {item["name"] for item in root["content"]}
    assert httpx2.get(url).status_code == 200, "the printed URL does not open the lab"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the bootstrap to stop (it passes SIGTERM on to the lab); kill it if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


@pytest.mark.skipif(os.geteuid() != 0, reason="the test runs as a user without root's powers")
def test_lab_as_root_allows_root_says_so_and_prints_its_url(tmp_path):
    _, log = run_lab(None, tmp_path)
    assert ROOT_NOTE in log


def test_lab_as_another_user_starts_without_allow_root(tmp_path):
    _, log = run_lab(unprivileged_user(), tmp_path)
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
