"""Start JupyterLab the way a student does, `python3 -m grader.bootstrap lab`, as root or not.

Shared by the JupyterLab, bootstrap and notebook-feedback tests, with the
loopback address, a free port and Jupyter's per-user folders they all use. The
lab runs on a free loopback port with every per-user folder (Jupyter's, IPython's,
the cache the hints are counted in) in a fresh temporary one, so nothing of the
machine's own set-up leaks in and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import json
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
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import bootstrap

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60  # the bootstrap gives the lab 20 s to stop before it kills it
URL_LINE = re.compile(r"^bootstrap: JupyterLab is running; open (\S+)$", re.MULTILINE)
ROOT_NOTE = "running as root, so JupyterLab starts with --allow-root"
UNPRIVILEGED_USER = "nobody"
# Every place Jupyter would read or write per-user state, redirected into a temp folder.
JUPYTER_HOME_VARIABLES = {
    "HOME": "home",
    "JUPYTER_CONFIG_DIR": "config",
    "JUPYTER_DATA_DIR": "data",
    "JUPYTER_RUNTIME_DIR": "runtime",
    "IPYTHONDIR": "ipython",
    "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
    "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
}
HOME_VARIABLES = {**JUPYTER_HOME_VARIABLES, "XDG_CACHE_HOME": "cache"}
# Lab settings (file under the settings folder -> values) that keep the page quiet and whole.
LAB_SETTINGS = {
    # No pop-up asking whether to fetch Jupyter's news (there is no network anyway).
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    # Every cell stays in the page, so a test can find and screenshot any of them.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunningLab:
    """A lab started by the bootstrap: the URL it printed, and its pieces."""

    url: str
    port: int
    log: Path

    @property
    def base(self) -> str:
        """The server's address, without path or token."""
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def token(self) -> str:
        """The token in the printed URL."""
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)["token"][0]


def environment_is_current() -> None:
    """Fail early, rather than let the bootstrap reinstall the kit under the test."""
    if bootstrap.installed_extras() is None:
        pytest.fail("the kit's .venv/ is not current; run `python3 -m grader.bootstrap test` first")


def give_to(path: Path, owner: pwd.struct_passwd | None) -> None:
    """Make ``owner`` (when not None) the owner of a folder and everything in it."""
    if owner is None:
        return
    for item in (path, *path.rglob("*")):
        os.chown(item, owner.pw_uid, owner.pw_gid, follow_symlinks=False)


@contextmanager
def private_home(owner: pwd.struct_passwd | None) -> Iterator[dict[str, str]]:
    """An environment whose per-user folders are fresh ones that ``owner`` (or we) own."""
    base = Path(tempfile.mkdtemp(prefix="kit-lab-home-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON", "XDG_"))}
    for variable, folder in HOME_VARIABLES.items():
        (base / folder).mkdir()
        env[variable] = str(base / folder)
    for name, values in LAB_SETTINGS.items():
        settings = base / HOME_VARIABLES["JUPYTERLAB_SETTINGS_DIR"] / f"{name}.jupyterlab-settings"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps(values), encoding="utf-8")
    if owner is not None:
        give_to(base, owner)
        env["USER"] = env["LOGNAME"] = owner.pw_name
    try:
        yield env
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class Identity:
    """Who the lab runs as: a name for messages, the command prefix, the owner of its files."""

    name: str
    prefix: tuple[str, ...] = ()
    owner: pwd.struct_passwd | None = None  # None: the files may stay ours


AS_WE_ARE = Identity("the test's own user")


def unprivileged() -> Identity:
    """An identity without root's powers that can run the kit's Python.

    As root: the user nobody (setpriv), or else a user namespace whose only user is
    1000, mapped onto us, so the kit's files are readable wherever the clone lives.
    When the machine allows neither: skips, saying why, or fails under CI=true.
    """
    if os.geteuid() != 0:
        return AS_WE_ARE
    tried = []
    for identity in candidates():
        probe = [*identity.prefix, sys.executable, "-c", "import jupyterlab, grader.bootstrap"]
        done = subprocess.run(probe, capture_output=True, text=True, cwd="/", check=False)
        if done.returncode == 0:
            return identity
        tried.append(f"{identity.name}: {done.stderr.strip()[-200:]}")
    why = "no user without root's powers can run the kit's Python here: " + "; ".join(tried)
    if os.environ.get("CI") == "true":  # CI's machine allows it: there this must run
        pytest.fail(why)
    pytest.skip(why)


def candidates() -> Iterator[Identity]:
    """The ways to drop root that this machine has tools for."""
    if shutil.which("setpriv"):
        with contextlib.suppress(KeyError):
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            drop = (f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups")
            yield Identity(user.pw_name, ("setpriv", *drop), user)
    if shutil.which("unshare"):
        mapped = ("unshare", "--user", "--map-user=1000", "--map-group=1000")
        yield Identity("user 1000 of a user namespace", mapped)


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


def stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> bool:
    """Ask the bootstrap to stop (it passes the signal on to the lab, and kills a lab that
    lingers), killing it if it does not; then kill whatever of its session is left.

    Returns whether anything was left.
    """
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def bootstrap_lab(
    identity: Identity,
    log: Path,
    root_dir: Path | None = None,
    stop_with: int = signal.SIGTERM,
) -> Iterator[RunningLab]:
    """Run `python3 -m grader.bootstrap lab` as ``identity`` until the block ends, then stop it
    with the signal ``stop_with`` sent to the bootstrap alone (no terminal sends it to both).

    On leaving, the bootstrap must have exited 0 and the lab must no longer listen.
    """
    environment_is_current()
    port = free_port()
    command = [*identity.prefix, sys.executable, "-m", "grader.bootstrap", "lab", "--no-browser"]
    command += [f"--ServerApp.ip={LOOPBACK}", f"--ServerApp.port={port}"]
    command += ["--ServerApp.port_retries=0"]
    if root_dir is not None:
        command.append(f"--ServerApp.root_dir={root_dir}")
    with private_home(identity.owner) as env:
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=bootstrap.ROOT,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own, for the cleanup of leftovers
            )
        try:
            yield RunningLab(wait_for_url(process, log), port, log)
        finally:
            left = stop(process, stop_with)
        assert process.returncode == 0, f"bootstrap lab exited {process.returncode}"
        assert not left, "processes of the lab outlived the bootstrap"
        assert not listening(port), "JupyterLab still listens after the bootstrap stopped"
