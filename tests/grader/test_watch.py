"""`python -m grader PATH --watch`: grades at once, then again each exercise whose file is saved."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from grader.exercises import EXERCISES
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.watch import saved_exercises
from tests.grader.helpers import ROOT, reference

FOOTER = "for saves (Ctrl-C stops)"
PASS_TIMEOUT_S = 120  # one grading pass, on a machine other tests keep busy
STOP_TIMEOUT_S = 30
INTERRUPTED = 130


def stubs(folder: Path) -> Path:
    """A copy of the untouched exercise stubs, as a student starts with them."""
    folder.mkdir()
    for ex in EXERCISES:
        shutil.copy(ROOT / "exercises" / ex.filename, folder / ex.filename)
    return folder


def save_by_rename(path: Path, text: str) -> None:
    """Save a file the way most editors do: write a temporary file, rename it over the old one."""
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def passes(output: Path) -> list[str]:
    """The grading passes printed so far, each from its header to its footer."""
    text = output.read_text(encoding="utf-8", errors="replace")
    return [block for block in text.split("── ")[1:] if FOOTER in block]


def wait_for_passes(process: subprocess.Popen[bytes], output: Path, count: int) -> list[str]:
    """Wait until ``count`` passes are printed; fail with the output if it exits or stalls."""
    deadline = time.monotonic() + PASS_TIMEOUT_S
    while time.monotonic() < deadline:
        found = passes(output)
        if len(found) >= count:
            return found
        if process.poll() is not None:
            pytest.fail(f"--watch exited with {process.returncode}:\n{output.read_text()}")
        time.sleep(0.1)
    pytest.fail(f"no pass {count} within {PASS_TIMEOUT_S} s:\n{output.read_text()}")


def verdicts(block: str) -> dict[str, str]:
    """Exercise id -> PASS or FAIL, from one pass's report."""
    found = {}
    for line in block.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in {ex.id for ex in EXERCISES}:
            found[words[0]] = words[1]
    return found


def test_saved_exercises_are_those_whose_module_changed_in_the_folder(tmp_path):
    elsewhere = tmp_path / "other" / EX2.filename
    changed = [str(tmp_path / EX3.filename), str(tmp_path / "notes.txt"), str(elsewhere)]
    changed.append(str(tmp_path / EX1.filename))
    assert saved_exercises(changed, tmp_path, EXERCISES) == (EX1, EX3)
    assert saved_exercises(changed, tmp_path, (EX2, EX3)) == (EX3,)
    assert saved_exercises([], tmp_path, EXERCISES) == ()


@pytest.mark.timeout(4 * PASS_TIMEOUT_S)
def test_watch_regrades_only_the_saved_exercise_and_stops_on_ctrl_c(tmp_path):
    folder = stubs(tmp_path / "work")
    output = tmp_path / "watch.out"
    command = [sys.executable, "-m", "grader", str(folder), "--watch", "--no-color"]
    command += ["--exercise", EX1.id, "--exercise", EX2.id]
    with output.open("wb") as out, (tmp_path / "watch.err").open("wb") as err:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
    try:
        first = wait_for_passes(process, output, 1)[0]
        assert verdicts(first) == {EX1.id: "FAIL", EX2.id: "FAIL"}

        (folder / "notes.txt").write_text("not an exercise")  # saving it grades nothing
        save_by_rename(folder / EX1.filename, reference(EX1))
        second = wait_for_passes(process, output, 2)[1]
        assert second.startswith(f"{EX1.filename} saved")
        assert verdicts(second) == {EX1.id: "PASS"}

        save_by_rename(folder / EX2.filename, reference(EX2).replace('\\n\\n"', '"'))
        third = wait_for_passes(process, output, 3)[2]
        assert third.startswith(f"{EX2.filename} saved")
        assert verdicts(third) == {EX2.id: "FAIL"}
        assert "blank line" in third

        helpers = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=STOP_TIMEOUT_S) == INTERRUPTED
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "stopped watching" in (tmp_path / "watch.err").read_text()
    assert len(passes(output)) == 3, output.read_text()
    _, alive = psutil.wait_procs(helpers, timeout=STOP_TIMEOUT_S)
    assert alive == [], f"left running after Ctrl-C: {alive}"


@pytest.mark.parametrize(
    "extra",
    [["--submissions", "grader/samples"], ["solutions"], ["--format", "json"], ["--output", "x"]],
    ids=["submissions", "two-paths", "json", "output"],
)
def test_watch_takes_one_path_and_prints_text(extra):
    done = subprocess.run(
        [sys.executable, "-m", "grader", *extra, "exercises", "--watch"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "--watch" in done.stderr
