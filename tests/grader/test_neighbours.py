"""Hostile submissions graded in one batch beside many correct ones: no neighbour loses a point.

The batch runs the way an instructor runs a class, several submissions at a
time, so each hostile sandbox shares the machine with correct ones: burning
CPU, forking, hoarding memory and descriptors, flooding output and chunks,
trickling its answer, filling its scratch space. Every correct submission must
still get full marks, and each hostile one is still graded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.grader.helpers import CORPUS, grader, last_document

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
CORRECT = 21
# The attacks on the machine and on the grader itself, rather than on the verdict.
HOSTILE = (
    "cpu_burner",
    "fork_bomb",
    "memory_hog",
    "memory_split_children",
    "descriptor_hoard",
    "flood_stdout",
    "one_byte_chunks",
    "trickled_head",
    "early_hints_loop",
    "fill_scratch_space",
    "background_processes",
    "lifespan_never_finishes",
)
JOBS = "4"
TIMEOUT = "5"
MEMORY = "256"
RUN_LIMIT = 900


def make_class(folder: Path) -> dict[str, str]:
    """Correct and hostile submissions side by side; each folder's name and what it is."""
    kinds: dict[str, str] = {}
    for number in range(CORRECT):
        name = f"correct-{number:02d}"
        shutil.copytree(SOLUTIONS, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        kinds[name] = "correct"
    for case in HOSTILE:
        target = folder / f"hostile-{case}"
        shutil.copytree(CORPUS / case, target, ignore=shutil.ignore_patterns("__pycache__"))
        for module in SOLUTIONS.glob("ex*.py"):
            if not (target / module.name).exists():
                shutil.copy(module, target / module.name)
        kinds[target.name] = "hostile"
    return kinds


@pytest.fixture(scope="module")
def graded() -> tuple[dict[str, str], dict[str, dict]]:
    """Grade the mixed class once; what each submission is, and its entry in the report."""
    missing = [case for case in HOSTILE if not (CORPUS / case).is_dir()]
    assert missing == [], "the hostile corpus lost cases this test relies on"
    # The sandboxes' users must reach their folders: a temp folder of the batch's own.
    base = Path(tempfile.mkdtemp(prefix="grader-neighbours-"))
    base.chmod(0o711)
    try:
        klass = base / "class"
        klass.mkdir()
        kinds = make_class(klass)
        options = ("--format", "json", "--submissions", str(klass), "--jobs", JOBS)
        limits = ("--timeout", TIMEOUT, "--memory", MEMORY)
        done = grader(*options, *limits, env={**os.environ, "TMPDIR": str(base)}, timeout=RUN_LIMIT)
        entries = {
            Path(entry["submission"]).name: entry
            for entry in last_document(done.stdout)["submissions"]
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return kinds, entries


def test_every_submission_is_graded(graded) -> None:
    kinds, entries = graded
    assert sorted(entries) == sorted(kinds)
    assert sum(kind == "correct" for kind in kinds.values()) >= 20


def test_every_correct_neighbour_gets_full_marks(graded) -> None:
    kinds, entries = graded
    lost = {
        name: [
            f"{e['id']}: " + "; ".join(c["message"][:200] for c in e["checks"] if not c["passed"])
            for e in entries[name]["exercises"]
            if not e["passed"]
        ]
        for name, kind in kinds.items()
        if kind == "correct" and entries[name]["score"] != entries[name]["max_score"]
    }
    assert lost == {}, json.dumps(lost, indent=1)[:4000]


def test_each_hostile_submission_gets_the_verdict_of_its_case(graded) -> None:
    kinds, entries = graded
    wrong = {}
    for name, kind in kinds.items():
        if kind != "hostile":
            continue
        expected = json.loads(
            (CORPUS / name.removeprefix("hostile-") / "expected.json").read_text()
        )
        got = {e["id"]: e["passed"] for e in entries[name]["exercises"]}
        if got != {ex: expected[ex] for ex in got}:
            wrong[name] = got
    assert wrong == {}
