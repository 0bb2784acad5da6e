"""Every command of the README's `sh` blocks, run as written in a fresh copy of the kit.

The README is read when the tests are collected, so a command added to it is tested
without touching this file. Each command runs from the root of a copy of the kit's
files (tracked and new, never ignored ones such as .venv/ or results), with a bound
on its time, and must end with the status the README gives it: 1 for grading the
stubs or the sample class (README: "it reports 5/15 and exits 1"), else 0.
Commands that serve (the demo, `bootstrap lab`) are started, asked for their page
and stopped. Two deliberate departures, both for time:

- the copy's .venv/ is a link to the project's, which must be current (so that
  bootstrap installs nothing into it); one test runs
  `python3 -m grader.bootstrap grade` in a second copy without one, so that making
  the environment from nothing is tested once;
- a command that runs the test suite (this file is part of it) runs with pytest's
  `--collect-only`: every test must still be collected without error.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
FENCE = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
STAMP = Path(".venv/.kit-installed")  # what grader.bootstrap writes after installing
COMMAND_TIMEOUT = 300  # seconds for one command
FRESH_BOOTSTRAP_TIMEOUT = 1200  # creating .venv downloads and installs every dependency
SERVER_START_TIMEOUT = 90
URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost):\d+/[^\s\"']*")
# The README's words on exit statuses: the grader exits 1 when some exercise failed,
# which the stubs (exercises/) and the sample class (grader/samples) always do.
FAILING_GRADES = (
    re.compile(r"grader\.bootstrap grade\b"),
    re.compile(r"-m grader\b(?!\.).*(\bexercises\b|grader/samples)"),
)
# The grader's words when a submission could not be graded at all: never expected here.
CANNOT_GRADE = "could not grade this submission"
SERVES = (re.compile(r"-m uvicorn\b"), re.compile(r"grader\.bootstrap (lab|demo)\b"))
TRAILING_COMMENT = re.compile(r"\s+#.*$")
RUNS_TESTS = (re.compile(r"grader\.bootstrap test\b"), re.compile(r"-m pytest\b"))


@dataclass(frozen=True)
class Command:
    """One README command: its text and the line of README.md it is on."""

    text: str
    line: int

    @property
    def expected_status(self) -> int:
        """The exit status the README gives it."""
        return 1 if any(p.search(self.text) for p in FAILING_GRADES) else 0

    @property
    def serves(self) -> bool:
        """True when the command starts a server that runs until stopped."""
        return any(p.search(self.text) for p in SERVES)

    @property
    def runs_tests(self) -> bool:
        """True when the command runs the test suite."""
        return any(p.search(self.text) for p in RUNS_TESTS)


def readme_commands(text: str) -> list[Command]:
    """The commands of every fenced `sh` block, continuation lines joined, each once."""
    commands: list[Command] = []
    for block in FENCE.finditer(text):
        first_line = text.count("\n", 0, block.start(1)) + 1
        pending, start = "", first_line
        for offset, line in enumerate(block.group(1).splitlines()):
            if not pending:
                start = first_line + offset
            pending += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
            if not line.endswith("\\"):
                seen = {TRAILING_COMMENT.sub("", c.text) for c in commands}
                if pending.strip() and TRAILING_COMMENT.sub("", pending.strip()) not in seen:
                    commands.append(Command(pending.strip(), start))
                pending = ""
    return commands


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))


def kit_files() -> list[str]:
    """The kit's files as a fresh clone would have them: tracked or new, never ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def copy_kit(target: Path) -> Path:
    """A copy of the kit's files in target."""
    for name in kit_files():
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, destination)
    return target


def clean_env() -> dict[str, str]:
    """The environment a user's shell would have: no virtualenv or pytest settings."""
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    # python3 is the one that runs this suite's bootstrap, never the project's .venv.
    system_dirs = [d for d in env["PATH"].split(os.pathsep) if Path(d) != Path(sys.prefix) / "bin"]
    return {**env, "PATH": os.pathsep.join(system_dirs)}


def bootstrap_python_version() -> str:
    """How grader.bootstrap names the Python that python3 is on a user's PATH."""
    code = "import sys; print(f'python{sys.version_info.major}.{sys.version_info.minor}')"
    done = subprocess.run(
        ["python3", "-c", code], env=clean_env(), capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def require_current_project_venv(copy: Path) -> None:
    """Fail unless bootstrap, run in the copy, would find the project's .venv current.

    The copy's .venv/ is a link to the project's: when bootstrap found it out of date
    it would install the copy into it. With the stamp current it installs nothing.
    """
    stamp = (REPO / STAMP).read_text().strip() if (REPO / STAMP).exists() else ""
    digest = hashlib.sha256((copy / "pyproject.toml").read_bytes()).hexdigest()
    install, _, extras = stamp.partition(" extras=")
    if install != f"{digest} {bootstrap_python_version()}" or "test" not in extras.split(","):
        pytest.fail("the project's .venv is not current: run python3 -m grader.bootstrap test")


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory) -> Path:
    """A copy of the kit whose .venv/ is the project's, current and installed."""
    root = copy_kit(tmp_path_factory.mktemp("fresh-kit"))
    require_current_project_venv(root)
    (root / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    return root


def port_in_use(port: int) -> bool:
    """True when something on this machine listens on the loopback port."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_argv(command: Command) -> list[str]:
    """The command's words; a port the README names that is taken here becomes a free one."""
    words = shlex.split(command.text, comments=True)
    if "--port" in words:
        at = words.index("--port") + 1
        if port_in_use(int(words[at])):  # another program's, not the README's fault
            words[at] = str(free_port())
    return words


def announced_url(output: Path, words: list[str], deadline: float) -> str:
    """The URL the server prints, or the one its --host and --port name."""
    if "--port" in words:
        port = words[words.index("--port") + 1]
        return f"http://127.0.0.1:{port}/"
    while time.monotonic() < deadline:
        found = URL.search(output.read_text(errors="replace"))
        if found:
            return found.group()
        time.sleep(0.5)
    raise AssertionError(f"the server printed no URL:\n{output.read_text(errors='replace')}")


def wait_for_page(url: str, deadline: float) -> int:
    """The HTTP status of the page once the server answers."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {SERVER_START_TIMEOUT} s")


def stop(process: subprocess.Popen) -> None:
    """Interrupt the server's process group as Ctrl-C would, then kill what is left."""
    for sig, grace in ((signal.SIGINT, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def check_server(command: Command, root: Path, log: Path) -> None:
    """Start the server, fetch its page, stop it."""
    words = server_argv(command)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            words,
            cwd=root,
            env=clean_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        url = announced_url(log, words, deadline)
        assert wait_for_page(url, deadline) == 200, log.read_text(errors="replace")
    finally:
        stop(process)


def run_to_end(command: Command, root: Path) -> subprocess.CompletedProcess:
    """Run the command through the shell, bounded in time; pytest only collects."""
    text = command.text
    if command.runs_tests:
        text = f"{TRAILING_COMMENT.sub('', text)} --collect-only -q"
    return subprocess.run(
        ["bash", "-c", text],
        cwd=root,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )


def test_readme_has_commands():
    assert len(COMMANDS) >= 5, "no fenced sh blocks found in README.md"


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"line{c.line}")
def test_readme_command_works_as_written(command, fresh_copy, tmp_path):
    if command.serves:
        check_server(command, fresh_copy, tmp_path / "server.log")
        return
    done = run_to_end(command, fresh_copy)
    where = f"README.md line {command.line}: {command.text}"
    if not command.runs_tests:  # pytest's own warnings may quote tracebacks
        assert "Traceback (most recent call last)" not in done.stderr, f"{where}\n{done.stderr}"
    assert CANNOT_GRADE not in done.stdout + done.stderr, f"{where}\n{done.stdout[-3000:]}"
    assert done.returncode == command.expected_status, (
        f"{where}\nexit status {done.returncode}, the README says {command.expected_status}\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )


@pytest.mark.slow
def test_first_quick_start_command_makes_the_environment_from_nothing(tmp_path):
    root = copy_kit(tmp_path / "kit")
    started = time.monotonic()
    done = subprocess.run(
        ["python3", "-m", "grader.bootstrap", "grade"],
        cwd=root,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=FRESH_BOOTSTRAP_TIMEOUT,
    )
    took = time.monotonic() - started
    print(f"python3 -m grader.bootstrap grade in a fresh copy: {took:.0f} s")
    assert done.returncode == 1, done.stderr[-3000:]
    assert CANNOT_GRADE not in done.stdout, done.stdout[-3000:]
    assert "5/15" in done.stdout, done.stdout[-3000:]
    assert (root / ".venv" / "bin" / "python").exists()
