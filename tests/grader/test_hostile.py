"""A class of hostile and broken submissions, graded in one batch as an instructor would.

Each folder of tests/corpus/hostile attacks the grader or the machine from one
or more of its modules and holds expected.json: the verdict of each exercise
and words its failure messages must contain. The batch runs once, on a copy of
the corpus, with a loopback listener the network attacks aim at, a decoy
process a forged status message names, and a secret in the grader's
environment; then the tests check that every attack cost only what it
attacked, gained nothing, and left nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from grader.exercises import EXERCISE_IDS
from grader.report import render
from grader.results import MAX_RECORD_BYTES, from_record
from tests.grader.helpers import (
    CORPUS,
    GRADER,
    ROOT,
    SYSV_KEY,
    Listener,
    adopting_orphans,
    delegated,
    describe,
    failure_text,
    grader,
    ipc_objects,
    kill_all,
    last_document,
    living_children,
    settle,
    without_root,
)

CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
TIMEOUT = "5"
# Two at a time: the corpus's own CPU burners then do not starve the timing checks of
# the reference solutions around them (test_batch covers verdicts under parallel load).
JOBS = "2"
MEMORY = "256"  # MiB: the memory hogs reach it quickly, and the shared machine keeps its RAM
TARGET = "target.py"  # a case's own settings, rewritten in the copy with the test's values
MAX_MESSAGE = 2000  # characters a student-facing message may have
SECRET_NAME = "SSE_KIT_CLASSROOM_TOKEN"
FORGED = "FORGED"  # what every forged result says
SLEEPER = ["sleep", "3600"]
PRINTED = "FLOOD"  # what the flooding case prints
STRAY_RESULTS = Path("/tmp/results.json")  # where one case drops a forged file
VERDICT_LINE = re.compile(r"ex\d\s+(PASS|FAIL)\b")


@dataclass
class Batch:
    """What one graded batch of the hostile corpus did."""

    done: subprocess.CompletedProcess[str] = field(repr=False)
    document: dict[str, Any] = field(repr=False)
    copy: Path
    results: Path
    leftovers: list[str]
    orphans: list[str]
    new_sleepers: list[str]
    connections: int
    decoy_survived: bool
    secret: str
    left_in_tmp: list[str]
    ipc_left: list[str]


def prepare(tmp: Path, port: int, decoy: int) -> Path:
    """Copy the corpus into ``tmp``, pointing its attacks at the listener and the decoy.

    A case holds only its attacking modules; the copy gets the other exercises from
    solutions/, or from the exercises/ stubs where a forged pass must show
    (expected.json's "others_from").
    """
    copy = shutil.copytree(CORPUS, tmp / "hostile")
    for case in CASES:
        others = ROOT / json.loads((CORPUS / case / "expected.json").read_text()).get(
            "others_from", "solutions"
        )
        for module in others.glob("ex*.py"):
            if not (copy / case / module.name).exists():
                shutil.copy(module, copy / case / module.name)
    (copy / "network" / TARGET).write_text(f'HOST = "127.0.0.1"\nPORT = {port}\n')
    (copy / "fake_status_message" / TARGET).write_text(f"VICTIM_PID = {decoy}\n")
    return copy


def batch_options(submissions: Path, results: Path) -> list[str]:
    """The instructor's command line for grading the hostile class."""
    return [
        *("--format", "json", "--submissions", str(submissions), "--results-dir", str(results)),
        *("--timeout", TIMEOUT, "--memory", MEMORY, "--jobs", JOBS),
    ]


def sleepers() -> list[psutil.Process]:
    """Running ``sleep 3600`` processes, which the background-process cases start."""
    found = []
    for proc in psutil.process_iter():
        with suppress(psutil.Error):
            if proc.cmdline() == SLEEPER and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def remove_stray_results() -> None:
    """Delete the forged results.json a case leaves in /tmp (and nothing that is not forged)."""
    with suppress(OSError):
        if FORGED in STRAY_RESULTS.read_text(encoding="utf-8", errors="replace"):
            STRAY_RESULTS.unlink()


@pytest.fixture(scope="module", params=["as root", "without root"])
def batch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """Grade the whole hostile corpus once, watching the network, processes and the decoy."""
    prefix = without_root() if request.param == "without root" else ()
    if not prefix and os.getuid() != 0:
        pytest.skip("the grader runs as root only when the tests do")
    if prefix:  # the ordinary user gets a cgroup subtree of its own, as on a systemd machine
        prefix = (*request.getfixturevalue("delegation"), *prefix)
    tmp = tmp_path_factory.mktemp("hostile")
    # The sandboxes' unprivileged users must reach their folders, which pytest's tmp_path
    # (private to its owner) does not allow: give the batch a temp folder of its own.
    batch_tmp = Path(tempfile.mkdtemp(prefix="grader-hostile-"))
    batch_tmp.chmod(0o711)
    secret = secrets.token_hex(16)
    env = {**os.environ, "TMPDIR": str(batch_tmp), SECRET_NAME: secret}
    decoy = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        with Listener() as listener, adopting_orphans():
            copy = prepare(tmp, listener.port, decoy.pid)
            before = {child.pid for child in living_children(set())}
            sleeping = {proc.pid for proc in sleepers()}
            ipc_before = ipc_objects()
            options = batch_options(copy, tmp / "results")
            done = grader(*options, env=env, command=(*prefix, *GRADER))
            leftovers = settle(str(tmp)) + settle(str(batch_tmp))
            orphans = living_children(before | {decoy.pid})
            new_sleepers = [proc for proc in sleepers() if proc.pid not in sleeping]
            connections = listener.connections
            kill_all(leftovers + orphans + new_sleepers)
            left_in_tmp = sorted(path.name for path in batch_tmp.iterdir())
            ipc_left = sorted(ipc_objects() - ipc_before)
        decoy_survived = decoy.poll() is None
    finally:
        decoy.kill()
        decoy.wait()
        remove_stray_results()
        shutil.rmtree(batch_tmp, ignore_errors=True)
    return Batch(
        done=done,
        document=last_document(done.stdout),
        copy=copy,
        results=tmp / "results",
        leftovers=describe(leftovers),
        orphans=describe(orphans),
        new_sleepers=describe(new_sleepers),
        connections=connections,
        decoy_survived=decoy_survived,
        secret=secret,
        left_in_tmp=left_in_tmp,
        ipc_left=ipc_left,
    )


@pytest.fixture(scope="module")
def delegation() -> Iterator[tuple[str, ...]]:
    """A command prefix giving the grader a pids cgroup of its own (see test_cgroups)."""
    with delegated(f"grader-test-{os.getpid()}") as prefix:
        yield prefix


def entry(batch: Batch, case: str) -> dict[str, Any]:
    """The report's entry for one case."""
    label = str(batch.copy / case)
    return next(s for s in batch.document["submissions"] if s["submission"] == label)


# --- the batch as a whole ----------------------------------------------------------------


def test_the_batch_exits_1(batch: Batch) -> None:
    assert batch.done.returncode == 1, batch.done.stderr[-3000:]


def test_stdout_is_the_json_report_and_nothing_else(batch: Batch) -> None:
    try:
        document = json.loads(batch.done.stdout)
    except json.JSONDecodeError as exc:
        head = batch.done.stdout[:300]
        pytest.fail(f"something besides the report reached stdout ({exc}): {head!r}")
    assert document == batch.document


def recorded_advice(batch: Batch) -> set[str]:
    """Every piece of advice the saved results hold (the report leaves some out)."""
    saved = [json.loads(path.read_text()) for path in batch.results.glob("*.json")]
    records = [envelope["result"] for envelope in saved]  # what it was graded from, and its result
    assert len(records) == len(CASES)
    return {
        advice
        for record in records
        for exercise in record["exercises"]
        for advice in exercise["advice"]
    }


def test_every_sandbox_had_its_own_namespaces(batch: Batch) -> None:
    assert {advice for advice in recorded_advice(batch) if "namespace" in advice} == set()


def test_every_sandbox_had_its_memory_and_process_limits_and_scratch_space(batch: Batch) -> None:
    missing = ("per sandbox unavailable", "scratch space unavailable", "private /proc")
    notes = {advice for advice in recorded_advice(batch) if any(m in advice for m in missing)}
    assert notes == set()


def test_every_case_is_reported_once_in_order(batch: Batch) -> None:
    labels = [s["submission"] for s in batch.document["submissions"]]
    assert labels == [str(batch.copy / case) for case in CASES]


def test_nothing_a_submission_printed_reaches_the_grader_output(batch: Batch) -> None:
    # Plain booleans: pytest would otherwise diff megabytes of output.
    assert not (PRINTED in batch.done.stdout or PRINTED in batch.done.stderr), "printed output"
    assert FORGED not in batch.done.stdout, "a forged result reached the report"


def test_every_message_is_short_enough_to_read(batch: Batch) -> None:
    long = {
        f"{s['submission']} {e['id']} {c['name']}": len(c["message"])
        for s in batch.document["submissions"]
        for e in s["exercises"]
        for c in e["checks"]
        if len(c["message"]) > MAX_MESSAGE
    }
    assert long == {}


def test_nothing_is_left_running(batch: Batch) -> None:
    assert batch.leftovers == []
    assert batch.orphans == []
    assert batch.new_sleepers == []


def test_no_folder_and_no_ipc_object_outlives_the_batch(batch: Batch) -> None:
    assert batch.left_in_tmp == []
    assert batch.ipc_left == []
    assert not any(f" {SYSV_KEY:#x} " in entry for entry in ipc_objects())


def test_no_connection_leaves_the_sandbox(batch: Batch) -> None:
    assert batch.connections == 0


def test_a_forged_status_message_kills_nothing_outside_the_sandbox(batch: Batch) -> None:
    assert batch.decoy_survived, "the grader killed the process a submission claimed as its server"


def test_the_grader_environment_does_not_reach_the_report(batch: Batch) -> None:
    leaked = batch.secret in batch.done.stdout
    assert not leaked, f"{SECRET_NAME}, set only in the grader's environment, is in the report"


def test_the_submission_folders_are_left_as_they_were(batch: Batch) -> None:
    changed = [
        str(path.relative_to(CORPUS))
        for path in sorted(CORPUS.rglob("*"))
        if path.is_file() and path.name != TARGET
        if not (batch.copy / path.relative_to(CORPUS)).is_file()
        or (batch.copy / path.relative_to(CORPUS)).read_bytes() != path.read_bytes()
    ]
    assert changed == []


# --- each case ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_a_case_costs_what_it_attacked_and_nothing_more(batch: Batch, case: str) -> None:
    expected = json.loads((CORPUS / case / "expected.json").read_text(encoding="utf-8"))
    exercises = {e["id"]: e for e in entry(batch, case)["exercises"]}
    verdicts = {ex: exercises[ex]["passed"] for ex in EXERCISE_IDS}
    failures = {ex: failure_text(exercises[ex])[:500] for ex in EXERCISE_IDS}
    assert verdicts == {ex: expected[ex] for ex in EXERCISE_IDS}, failures
    for ex, fragments in expected.get("message_contains", {}).items():
        text = failure_text(exercises[ex])
        missing = [fragment for fragment in fragments if fragment not in text]
        assert missing == [], text[:1000]


def saved_record(batch: Batch, case: str) -> tuple[dict[str, Any], int]:
    """The result a case's grading saved, and the size of its file."""
    label = str(batch.copy / case)
    for path in batch.results.glob("*.json"):
        envelope = json.loads(path.read_text(encoding="utf-8"))
        if envelope["result"]["submission"] == label:
            return envelope["result"], path.stat().st_size
    pytest.fail(f"no saved result for {case}")


@pytest.mark.parametrize("case", CASES)
def test_a_case_leaves_a_record_of_bounded_size(batch: Batch, case: str) -> None:
    expected = json.loads((CORPUS / case / "expected.json").read_text(encoding="utf-8"))
    _, size = saved_record(batch, case)
    assert size <= expected.get("max_record_bytes", MAX_RECORD_BYTES)


@pytest.mark.parametrize("case", [c for c in CASES if "forged" in c or "report" in c])
def test_the_text_report_draws_only_the_lines_the_grader_wrote(batch: Batch, case: str) -> None:
    record, _ = saved_record(batch, case)
    result = from_record(record)
    out = render([result], "text")
    assert out.splitlines() == out.split("\n")[:-1]  # "\n" is the only line break left
    drawn = [line.split()[:2] for line in out.splitlines() if VERDICT_LINE.match(line)]
    graded = [[e.id, "PASS" if e.passed else "FAIL"] for e in result.exercises]
    assert drawn == graded
    hidden = {c for c in out if unicodedata.category(c) in ("Cf", "Zl", "Zp")}
    assert hidden == set()
