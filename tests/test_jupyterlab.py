"""JupyterLab starts on lessons/, lists the lesson notebooks and offers a python3 kernel."""

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from tests.lab_support import JUPYTER_HOME_VARIABLES, LOOPBACK, free_port
from tests.notebook_support import KERNEL_NAME, LESSONS_DIR, notebook_paths

STARTUP_TIMEOUT_S = 90
POLL_INTERVAL_S = 0.25
STOP_TIMEOUT_S = 20
REQUEST_TIMEOUT_S = 10


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: its base URL, token and process."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, *, token: str | None = None) -> httpx2.Response:
        """GET a server API path, authenticated with the lab's token unless told otherwise."""
        headers = {"Authorization": f"token {self.token if token is None else token}"}
        return httpx2.get(self.url + path, headers=headers, timeout=REQUEST_TIMEOUT_S)


def isolated_env(base: Path) -> dict[str, str]:
    """The environment with every Jupyter per-user folder under base."""
    env = dict(os.environ)
    for variable, folder in JUPYTER_HOME_VARIABLES.items():
        (base / folder).mkdir()
        env[variable] = str(base / folder)
    return env


def lab_command(port: int, token: str) -> list[str]:
    """JupyterLab on loopback, no browser, serving the lessons folder."""
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.allow_root=True",  # containers and CI runners often run as root
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={LESSONS_DIR}",
    ]


def wait_until_ready(lab: Lab) -> None:
    """Poll /api/status until it answers; fail with the server log if it exits or stalls."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            pytest.fail(f"jupyter lab exited with {lab.process.returncode}:\n{lab.log.read_text()}")
        try:
            if lab.get("/api/status").status_code == 200:
                return
        except httpx2.TransportError:
            pass  # not listening yet
        time.sleep(POLL_INTERVAL_S)
    pytest.fail(f"jupyter lab not ready within {STARTUP_TIMEOUT_S} s:\n{lab.log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill if it does not exit in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    token = secrets.token_hex(16)
    port = free_port()
    log = tmp_path / "jupyter.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            lab_command(port, token),
            env=isolated_env(tmp_path),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Lab(f"http://{LOOPBACK}:{port}", token, process, log)
    try:
        wait_until_ready(running)
        yield running
    finally:
        stop(process)
    assert process.returncode is not None, "jupyter lab is still running"


@pytest.mark.slow
def test_lab_serves_the_lessons(lab: Lab):
    contents = lab.get("/api/contents?content=1")
    assert contents.status_code == 200
    listed = {item["name"] for item in contents.json()["content"]}
    expected = {path.name for path in notebook_paths()}
    assert expected, "no lesson notebooks to look for"
    assert expected <= listed, f"missing from the lab: {sorted(expected - listed)}"

    kernelspecs = lab.get("/api/kernelspecs")
    assert kernelspecs.status_code == 200
    assert KERNEL_NAME in kernelspecs.json()["kernelspecs"]

    assert lab.get("/api/contents", token="wrong").status_code == 403

    lab.process.terminate()
    assert lab.process.wait(timeout=STOP_TIMEOUT_S) == 0, "jupyter lab did not shut down cleanly"
