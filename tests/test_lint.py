"""The code base stays formatted and lint-clean under the ruff configuration in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUFF = [sys.executable, "-m", "ruff"]


def run_ruff(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ruff from the repo root and capture what it says."""
    return subprocess.run([*RUFF, *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_check_finds_nothing():
    done = run_ruff("check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_would_change_nothing():
    done = run_ruff("format", "--check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr
