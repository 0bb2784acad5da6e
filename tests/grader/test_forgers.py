"""Submissions written against the grader's source to earn points for no work, graded in one batch.

Each folder of tests/corpus/forgers holds the modules of one attack and
expected.json: what it tries ("attack"), the verdict of each exercise, words its
failure messages must contain, and what the test must make that git cannot
hold (symbolic links, a FIFO, a padded module). The batch runs once, as an
instructor runs it, on a copy of the corpus; then the tests check that no case
earned a point it did not earn, that every failure says why, that the grader
survived everything and never held a gzip bomb's gigabyte, that a root-only
file a case links to reached no report, and that nothing is left running.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grader.exercises import EXERCISE_IDS
from tests.grader.helpers import (
    GRADER,
    adopting_orphans,
    describe,
    failure_text,
    kill_all,
    last_document,
    living_children,
    settle,
    without_root,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "forgers"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
TIMEOUT = "5"
JOBS = "2"
MEMORY = "256"  # MiB per sandbox
RUN_LIMIT = 900  # seconds the whole batch may take before the test gives up on it
PEAK_LIMIT = 768 << 10  # KiB: any process of the batch; a decoded gzip bomb needs 1 GiB
# Runs the grader and writes the peak resident memory of all it started (KiB) to argv[1].
MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


@dataclass
class Batch:
    """What one graded batch of the forgers corpus did."""

    done: subprocess.CompletedProcess[str] = field(repr=False)
    document: dict[str, Any] = field(repr=False)
    copy: Path
    results: Path
    secret: str
    peak_kib: int
    leftovers: list[str]
    orphans: list[str]


def manifest(case: str) -> dict[str, Any]:
    """A case's expected.json."""
    return dict(json.loads((CORPUS / case / "expected.json").read_text(encoding="utf-8")))


def make_entries(folder: Path, spec: dict[str, Any], secret_file: Path) -> None:
    """Make what git cannot hold: the links, FIFOs and padded modules a case asks for."""
    for name, target in spec.get("links", {}).items():
        (folder / name).symlink_to(target.format(root=ROOT, secret=secret_file))
    for name in spec.get("fifos", []):
        os.mkfifo(folder / name)
    for name, size in spec.get("padded", {}).items():
        source = (ROOT / "solutions" / name).read_bytes()
        padding = b"# padding\n" * ((size - len(source)) // 10 + 1)
        (folder / name).write_bytes(source + padding)


def prepare(tmp: Path, secret_file: Path) -> Path:
    """Copy the corpus into ``tmp``, make each case's special entries, fill in the rest.

    A case holds only its attacking modules; the other exercises come from
    solutions/, or from the exercises/ stubs (expected.json's "others_from").
    """
    copy = Path(shutil.copytree(CORPUS, tmp / "forgers", symlinks=True))
    for case in CASES:
        spec = manifest(case)
        make_entries(copy / case, spec, secret_file)
        others = ROOT / spec.get("others_from", "solutions")
        for module in others.glob("ex*.py"):
            if not os.path.lexists(copy / case / module.name):
                shutil.copy(module, copy / case / module.name)
    return copy


def secret_file(folder: Path) -> tuple[Path, str]:
    """A file only the grader's user may read, holding a fresh secret."""
    secret = secrets.token_hex(16)
    path = folder / "root-only.txt"
    path.write_text(f"SECRET = {secret!r}\n")
    path.chmod(0o600)
    return path, secret


def run_measured(
    options: list[str], env: dict[str, str], peak: Path, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the grader with ``options``, writing the peak memory of all it started to ``peak``."""
    command = [sys.executable, "-c", MEASURE, str(peak), *prefix, *GRADER, *options]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_LIMIT, check=False
    )


@pytest.fixture(scope="module", params=["as root", "without root"])
def batch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """Grade the whole forgers corpus once, as an instructor would, watching what is left."""
    prefix = without_root() if request.param == "without root" else ()
    if not prefix and os.getuid() != 0:
        pytest.skip("the grader runs as root only when the tests do")
    tmp = tmp_path_factory.mktemp("forgers")
    # The sandboxes' unprivileged users must reach their folders: a temp folder of the batch's own.
    batch_tmp = Path(tempfile.mkdtemp(prefix="grader-forgers-"))
    batch_tmp.chmod(0o711)
    secret_path, secret = secret_file(tmp)
    env = {**os.environ, "TMPDIR": str(batch_tmp)}
    try:
        with adopting_orphans():
            copy = prepare(tmp, secret_path)
            before = {child.pid for child in living_children(set())}
            options = [
                *("--format", "json", "--submissions", str(copy)),
                *("--results-dir", str(tmp / "results"), "--timeout", TIMEOUT),
                *("--memory", MEMORY, "--jobs", JOBS, "--no-progress"),
            ]
            done = run_measured(options, env, tmp / "peak", prefix)
            leftovers = settle(str(tmp)) + settle(str(batch_tmp))
            orphans = living_children(before)
            kill_all(leftovers + orphans)
    finally:
        shutil.rmtree(batch_tmp, ignore_errors=True)
    peak = (tmp / "peak").read_text()
    return Batch(
        done=done,
        document=last_document(done.stdout),
        copy=copy,
        results=tmp / "results",
        secret=secret,
        peak_kib=int(peak),
        leftovers=describe(leftovers),
        orphans=describe(orphans),
    )


def entry(batch: Batch, case: str) -> dict[str, Any]:
    """The report's entry for one case."""
    label = str(batch.copy / case)
    return next(s for s in batch.document["submissions"] if s["submission"] == label)


# --- the batch as a whole ----------------------------------------------------------------


def test_every_case_says_what_it_tries_and_expects() -> None:
    for case in CASES:
        spec = manifest(case)
        assert spec.get("attack"), f"{case}: expected.json must say what the case tries"
        assert {ex: type(spec.get(ex)) for ex in EXERCISE_IDS} == dict.fromkeys(EXERCISE_IDS, bool)


def test_the_batch_exits_1_with_only_the_report_on_stdout(batch: Batch) -> None:
    assert batch.done.returncode == 1, batch.done.stderr[-3000:]
    assert json.loads(batch.done.stdout) == batch.document


def test_every_case_is_reported_once_in_order(batch: Batch) -> None:
    labels = [s["submission"] for s in batch.document["submissions"]]
    assert labels == [str(batch.copy / case) for case in CASES]


def test_every_failed_exercise_says_why(batch: Batch) -> None:
    silent = [
        f"{case} {exercise['id']}"
        for case in CASES
        for exercise in entry(batch, case)["exercises"]
        if not exercise["passed"] and not failure_text(exercise).strip()
    ]
    assert silent == []


def test_nothing_is_left_running(batch: Batch) -> None:
    assert batch.leftovers == []
    assert batch.orphans == []


def test_the_root_only_file_reaches_no_report(batch: Batch) -> None:
    records = "".join(path.read_text() for path in batch.results.glob("*.json"))
    assert batch.secret not in batch.done.stdout + batch.done.stderr + records


def test_no_process_of_the_batch_held_the_gzip_bomb(batch: Batch) -> None:
    assert batch.peak_kib < PEAK_LIMIT, f"a process of the batch peaked at {batch.peak_kib} KiB"


# --- each case ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_no_case_earns_a_point_it_did_not_earn(batch: Batch, case: str) -> None:
    expected = manifest(case)
    exercises = {e["id"]: e for e in entry(batch, case)["exercises"]}
    verdicts = {ex: exercises[ex]["passed"] for ex in EXERCISE_IDS}
    failures = {ex: failure_text(exercises[ex])[:500] for ex in EXERCISE_IDS}
    assert verdicts == {ex: expected[ex] for ex in EXERCISE_IDS}, failures
    for ex, fragments in expected.get("message_contains", {}).items():
        text = failure_text(exercises[ex])
        missing = [fragment for fragment in fragments if fragment not in text]
        assert missing == [], text[:1000]


def test_a_sandbox_holds_nothing_of_the_classmate_graded_before_it(tmp_path: Path) -> None:
    # One worker grades the classmate, then the forger, whose server is forked from that worker.
    klass = tmp_path / "class"
    shutil.copytree(ROOT / "solutions", klass / "a_classmate")
    shutil.copytree(CORPUS / "worker_memory_classmate_source", klass / "b_forger")
    options = ["--submissions", str(klass), "--exercise", "ex1", "--jobs", "1", "--format", "json"]
    done = subprocess.run(
        [*GRADER, *options, "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    verdicts = {
        Path(s["submission"]).name: s["exercises"][0]["passed"]
        for s in last_document(done.stdout)["submissions"]
    }
    assert verdicts == {"a_classmate": True, "b_forger": False}
