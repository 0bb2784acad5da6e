"""Set up the kit's virtual environment if needed, then run one of its jobs inside it.

Standard library only: this runs on a fresh machine before anything is installed.
It is idempotent: the environment is (re)installed only when ``pyproject.toml``
or the requested extras changed since the last install, so a second run starts
the job at once.

    python3 -m grader.bootstrap grade   # grade the bundled sample class
    python3 -m grader.bootstrap test    # run the whole test suite
    python3 -m grader.bootstrap lab     # open the lessons in JupyterLab (prints its URL)
    python3 -m grader.bootstrap demo    # serve the live streaming demo
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".kit-installed"
MIN_PYTHON = (3, 11)
# How long the lab may take to start listening before its URL is given up on
# (it keeps running; JupyterLab's own log shows the URL too).
LAB_STARTUP_S = 120.0
LAB_POLL_S = 0.2
# How long the lab may take to shut down once told to stop (it stops its kernels first).
LAB_STOP_S = 20.0
RUNTIME_DIR_CODE = "import jupyter_core.paths as p; print(p.jupyter_runtime_dir())"

# job name -> (extras to install, command to run inside the environment)
JOBS: dict[str, tuple[str, list[str]]] = {
    "grade": ("", ["-m", "grader", "--submissions", "grader/samples"]),
    "test": ("test", ["-m", "pytest"]),
    "lab": ("", ["-m", "jupyterlab"]),
    "demo": ("", ["-m", "uvicorn", "lessons.demo.app:app", "--host", "127.0.0.1"]),
}


def venv_python() -> Path:
    """The interpreter of the kit's virtual environment."""
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def current_install() -> str:
    """What identifies an install: the project file and the interpreter version."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return f"{digest} python{sys.version_info.major}.{sys.version_info.minor}"


def installed_extras() -> set[str] | None:
    """The extras of the last install if it is still current, else None."""
    if not STAMP.exists():
        return None
    install, _, extras = STAMP.read_text().strip().partition(" extras=")
    return set(extras.split(",")) - {""} if install == current_install() else None


def ensure_environment(extras: str) -> None:
    """Create the virtual environment and install the kit into it unless already current."""
    have = installed_extras()
    if have is not None and (not extras or extras in have):
        return
    if not venv_python().exists():
        print(f"bootstrap: creating {VENV.name}/", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = sorted((have or set()) | ({extras} - {""}))
    target = f".[{','.join(wanted)}]" if wanted else "."
    print(f"bootstrap: installing the kit ({target}) into {VENV.name}/", file=sys.stderr)
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-e", target], cwd=ROOT, check=True)
    STAMP.write_text(f"{current_install()} extras={','.join(wanted)}\n")


def running_as_root() -> bool:
    """Whether this process has root's powers (never on Windows)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_url(info_file: Path) -> str | None:
    """The URL, token included, that a running Jupyter server wrote into its info file."""
    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
        url, token = str(info["url"]), str(info.get("token") or "")
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not written yet, or half written
    base = url if url.endswith("/") else url + "/"
    return f"{base}lab?token={urllib.parse.quote(token)}" if token else f"{base}lab"


def wait_for_lab_url(child: subprocess.Popen[bytes], runtime_dir: Path) -> str | None:
    """The lab's URL once its server listens, or None if it exits or is slow to start."""
    # jupyter_server writes jpserver-<pid>.json once it listens, with the real port and token.
    info_file = runtime_dir / f"jpserver-{child.pid}.json"
    deadline = time.monotonic() + LAB_STARTUP_S
    while child.poll() is None and time.monotonic() < deadline:
        url = lab_url(info_file)
        if url is not None:
            return url
        time.sleep(LAB_POLL_S)
    return None


def exit_status(returncode: int) -> int:
    """A child's return code as a shell would report it (128 + N for signal N)."""
    return 128 - returncode if returncode < 0 else returncode


def in_terminal_foreground() -> bool:
    """Whether this process is in its terminal's foreground group, which Ctrl-C signals whole."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):  # no terminal, or no such call (Windows)
        return False


class Lab:
    """JupyterLab run as a child: signals passed on, and stopped for sure once asked to."""

    def __init__(self, command: list[str]) -> None:
        # Ctrl-C at a terminal reaches the lab too (JupyterLab then asks whether to stop);
        # any other interruption is passed on, so the lab never outlives this process.
        self.from_terminal = in_terminal_foreground()
        self.asked_at: float | None = None
        self.child = subprocess.Popen(command)
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self.forward)

    def forward(self, signum: int, _frame: object) -> None:
        """Pass a signal on to the lab, unless the terminal already sent it there."""
        if signum == signal.SIGINT and self.from_terminal:
            return
        self.child.send_signal(signum)
        # At a terminal a first SIGINT only makes the lab ask for confirmation; else it stops.
        if signum != signal.SIGINT or not sys.stdin or not sys.stdin.isatty():
            self.asked_at = self.asked_at or time.monotonic()

    def wait(self) -> int:
        """The lab's exit status once it exits; killed if it lingers after being told to stop."""
        while True:
            try:
                return exit_status(self.child.wait(timeout=LAB_POLL_S))
            except subprocess.TimeoutExpired:
                if self.asked_at is not None and time.monotonic() - self.asked_at > LAB_STOP_S:
                    print(
                        f"bootstrap: JupyterLab did not stop within {LAB_STOP_S:g} s; killing it",
                        file=sys.stderr,
                    )
                    self.child.kill()
                    self.asked_at = None


def run_lab(command: list[str]) -> int:
    """Start JupyterLab, print the URL to open, and wait until it stops."""
    if running_as_root() and "--allow-root" not in command:
        # JupyterLab refuses root without it; containers and CI runners often run as root.
        command = [*command, "--allow-root"]
        print("bootstrap: running as root, so JupyterLab starts with --allow-root", file=sys.stderr)
    found = subprocess.run(
        [str(venv_python()), "-c", RUNTIME_DIR_CODE], capture_output=True, text=True, check=False
    )
    lab = Lab(command)
    url = wait_for_lab_url(lab.child, Path(found.stdout.strip())) if found.returncode == 0 else None
    if url is not None:
        print(f"bootstrap: JupyterLab is running; open {url}", file=sys.stderr, flush=True)
    return lab.wait()


def main(argv: list[str] | None = None) -> int:
    """Parse the job name, set up the environment and hand over to the job."""
    parser = argparse.ArgumentParser(
        prog="python3 -m grader.bootstrap",
        description="Set up .venv/ when needed, then run a job of the kit inside it.",
    )
    parser.add_argument("job", choices=sorted(JOBS), help="what to run once set up")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="extra arguments for the job")
    ns = parser.parse_args(argv)
    if sys.version_info < MIN_PYTHON:
        parser.error(f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is required")
    extras, command = JOBS[ns.job]
    try:
        ensure_environment(extras)
    except subprocess.CalledProcessError as exc:
        print(
            f"bootstrap: installing failed (exit {exc.returncode}); see pip's output above",
            file=sys.stderr,
        )
        return 2
    os.chdir(ROOT)
    argv_job = [str(venv_python()), *command, *ns.args]
    if ns.job == "lab":
        return run_lab(argv_job)
    return subprocess.call(argv_job)


if __name__ == "__main__":
    raise SystemExit(main())
