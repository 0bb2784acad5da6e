"""The grader's checks run as pytest items through its plugin, in a real pytest process."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_plugin(tmp_path: Path, *submissions: Path) -> subprocess.CompletedProcess[str]:
    """Run pytest with only the plugin's items, from an empty folder."""
    options = [arg for path in submissions for arg in ("--submission", str(path))]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "grader.pytest_plugin",
        "-p",
        "no:cacheprovider",
    ]
    return subprocess.run(
        [*command, "-q", "-rf", *options], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_the_solutions_pass_every_check_as_a_test(tmp_path):
    done = run_plugin(tmp_path, ROOT / "solutions")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "17 passed" in done.stdout


def test_each_failed_check_is_a_failed_test_with_its_feedback(tmp_path):
    done = run_plugin(tmp_path, ROOT / "exercises")
    assert done.returncode == 1
    assert (
        "exercises::ex1::response FAILED" in done.stdout
        or "exercises::ex1::response -" in done.stdout
    )
    assert "NotImplementedError: exercise 1" in done.stdout
    assert "exercises::ex2::events" in done.stdout
    assert "each event must end with a blank line" in done.stdout


def test_a_missing_folder_is_a_usage_error(tmp_path):
    done = run_plugin(tmp_path, tmp_path / "nope")
    assert done.returncode == 4  # pytest's exit status for a usage error
    assert "no such submission folder" in done.stderr


def test_a_submission_cannot_reach_solutions_that_pytest_imported(tmp_path):
    # A course's own tests often import the reference solutions into pytest's process;
    # this forger rebuilds them from any of their functions still alive in its server's memory.
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "import solutions.ex1_stream_lines, solutions.ex2_fix_sse, solutions.ex3_async_tokens\n"
    )
    done = run_plugin(tmp_path, ROOT / "tests" / "corpus" / "forgers" / "gc_hunt_reference")
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED ")]
    for exercise in ("ex1", "ex2", "ex3"):
        assert any(f"gc_hunt_reference::{exercise}::" in line for line in failed), done.stdout
    assert "exercise 1: yield each element of `lines`" in done.stdout
