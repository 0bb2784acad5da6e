"""python -m grader.platforms: its help, its usage errors, and a Python without the grader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.grader.platforms.support import REPO, path_env, run

PLATFORMS = ("gradescope", "github", "classroom50", "prairielearn")


def platforms(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    """Run the command from the kit's root with that Python."""
    return run([python, "-m", "grader.platforms", *args], env=path_env(), cwd=REPO, timeout=120)


def test_help_names_every_platform_and_the_python_to_run_it_with():
    done = platforms("--help")
    assert done.returncode == 0
    for name in PLATFORMS:
        assert name in done.stdout
    assert ".venv/bin/python -m grader.platforms" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["github", "--timeout", "0"], "minutes from 1 to 360"),
        (["prairielearn", "--output", "x", "--timeout", "601"], "seconds from 1 to 600"),
        (["prairielearn"], "--output"),
        (["travis"], "invalid choice"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, message, tmp_path):
    done = run([sys.executable, "-m", "grader.platforms", *args], env=path_env(), cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert not list(tmp_path.iterdir())


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A Python with nothing installed: what `python` is before the kit's .venv exists."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin" / "python"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_without_the_grader_requirements_it_says_what_to_run(platform, bare_python, tmp_path):
    output = tmp_path / "out"
    done = platforms(platform, "--output", str(output), python=str(bare_python))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "lacks the grader's requirements" in done.stderr
    assert f".venv/bin/python -m grader.platforms {platform}" in done.stderr
    assert not output.exists()
