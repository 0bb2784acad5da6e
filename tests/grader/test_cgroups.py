"""Per-sandbox cgroups: finding the grader's own, making a batch's, limits, peak, kill, cleanup.

The layout logic (v1 and v2, cgroup namespaces, delegation) is tested on
mountinfo and /proc/self/cgroup texts and on a folder laid out like a cgroup
tree; limits, accounting and killing on the machine's real cgroups, which
needs root or a delegated subtree (skipped with the reason otherwise).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from grader import cgroups
from grader.cgroups import Batch, Layout, Unavailable, find_layout, parse_membership, parse_mounts
from tests.grader.helpers import GRADER, grader, make_submission, without_root

MiB = 1 << 20

V1_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V1_MEMBERSHIP = "8:pids:/\n4:memory:/jobs/42\n0::/\n"
V2_MEMBERSHIP = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/grade.scope\n"


def v2_mountinfo(point: Path) -> str:
    return f"30 23 0:27 / {point} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"


# --- layout ------------------------------------------------------------------------------


def test_mounts_name_each_v1_controller_and_the_v2_hierarchy() -> None:
    mounts = parse_mounts(V1_MOUNTINFO)
    assert mounts["memory"] == (Path("/sys/fs/cgroup/memory"), "/")
    assert mounts["pids"] == (Path("/sys/fs/cgroup/pids"), "/")
    assert mounts[""] == (Path("/sys/fs/cgroup/unified"), "/")


def test_membership_reads_each_hierarchy_s_path() -> None:
    member = parse_membership(V1_MEMBERSHIP)
    assert member == {"pids": "/", "memory": "/jobs/42", "": "/"}


def test_v1_is_used_where_the_v2_hierarchy_has_no_controllers() -> None:
    layout = find_layout(V1_MOUNTINFO, V1_MEMBERSHIP)
    assert layout == Layout(
        unified=False,
        own={"memory": Path("/sys/fs/cgroup/memory/jobs/42"), "pids": Path("/sys/fs/cgroup/pids")},
    )


def test_v2_is_used_where_its_controllers_are_there(tmp_path: Path) -> None:
    own = tmp_path / V2_MEMBERSHIP.split("::")[1].strip().lstrip("/")
    own.mkdir(parents=True)
    (own / "cgroup.controllers").write_text("cpu io memory pids\n")
    layout = find_layout(v2_mountinfo(tmp_path) + V1_MOUNTINFO, V2_MEMBERSHIP)
    assert layout == Layout(unified=True, own={"memory": own, "pids": own})


def test_v2_without_the_controllers_falls_back_to_v1(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu io\n")
    layout = find_layout(v2_mountinfo(tmp_path) + V1_MOUNTINFO, V1_MEMBERSHIP)
    assert not layout.unified


def test_a_cgroup_namespace_shows_the_tree_from_its_own_root() -> None:
    mountinfo = "35 31 0:32 /jobs /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    layout = find_layout(mountinfo, "4:memory:/jobs/42\n")
    assert layout.own == {"memory": Path("/sys/fs/cgroup/memory/42")}


def test_no_cgroup_hierarchy_is_unavailable_with_the_reason() -> None:
    with pytest.raises(Unavailable, match="no cgroup hierarchy"):
        find_layout("22 1 0:5 / /proc rw - proc proc rw\n", "0::/\n")


def test_a_v2_grader_moves_itself_into_a_leaf_to_give_controllers(tmp_path: Path) -> None:
    """The path logic of delegation on a fake tree: a busy cgroup first gets a leaf for us."""
    writes: list[tuple[str, str]] = []
    busy = {"first": True}

    def fake_write(path: Path, value: str) -> None:
        writes.append((str(path.relative_to(tmp_path)), value))
        if path.name == "cgroup.subtree_control" and path.parent == tmp_path and busy["first"]:
            busy["first"] = False
            raise OSError(16, "Device or resource busy")  # EBUSY: processes in the cgroup

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cgroups, "_write", fake_write)
        batch = Batch(Layout(unified=True, own={"memory": tmp_path, "pids": tmp_path}), pid=7)
        batch.create()
    assert writes == [
        ("cgroup.subtree_control", "+memory +pids"),
        (f"{cgroups.SELF_LEAF}/cgroup.procs", "0"),
        ("cgroup.subtree_control", "+memory +pids"),
        (f"{cgroups.batch_name(7)}/cgroup.subtree_control", "+memory +pids"),
    ]
    assert batch.missing == {}


def test_stale_batch_folders_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    other_namespace = f"grader-1-{dead.pid}"  # PID namespace inode 1: not ours
    names = [cgroups.batch_name(dead.pid), cgroups.batch_name(os.getpid()), other_namespace]
    for name in names:
        (tmp_path / name / "sandbox-1").mkdir(parents=True)
    (tmp_path / "unrelated").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cgroups.Group, "kill", lambda self: None)  # a fake tree has no processes
        cgroups.sweep_stale(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[1:], "unrelated"])


# --- the machine's cgroups -------------------------------------------------------------


@pytest.fixture
def batch() -> Iterator[Batch]:
    """A batch under this process's real cgroups, removed afterwards."""
    try:
        made = cgroups.batch_for_this_process()
    except Unavailable as exc:
        pytest.skip(f"no cgroups for sandboxes here: {exc}")
    if made.missing:
        made.remove()
        pytest.skip(f"only some cgroup controllers here: {made.missing}")
    yield made
    made.remove()
    assert not any(folder.exists() for folder in made.folders.values())


def run_in(group: cgroups.Group, code: str) -> subprocess.Popen[bytes]:
    """A Python process that joins ``group`` before it runs ``code``."""
    join = "".join(f"open({str(p)!r}, 'w').write('0')\n" for p in group.procs)
    return subprocess.Popen([sys.executable, "-c", join + code])


def test_memory_held_by_children_and_memfds_counts_against_one_limit(batch: Batch) -> None:
    group = batch.new_group(64 * MiB, 64)
    hoard = """
import os
fds = []
for _ in range(200):  # 200 MiB in memfds that are never mapped
    fd = os.memfd_create("hoard")
    os.posix_fallocate(fd, 0, 1 << 20)
    fds.append(fd)
"""
    proc = run_in(group, hoard)
    status = proc.wait(timeout=60)
    assert status != 0, "the hoard fitted under the limit"
    if status == -signal.SIGKILL:
        assert group.oom_kills() >= 1
    assert 48 * MiB < group.peak_memory() <= 64 * MiB
    group.remove()


def test_processes_beyond_the_limit_are_refused(batch: Batch) -> None:
    group = batch.new_group(256 * MiB, 16)
    bomb = """
import os, sys, time
started = 0
for _ in range(100):
    try:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
    except OSError:
        break
    started += 1
sys.exit(started)
"""
    proc = run_in(group, bomb)
    started = proc.wait(timeout=60)
    assert 0 < started < 16
    group.remove()


def test_removing_a_group_kills_everything_in_it_first(batch: Batch) -> None:
    group = batch.new_group(256 * MiB, 64)
    spawner = "import os, time\nfor _ in range(5):\n    os.fork()\ntime.sleep(60)\n"
    proc = run_in(group, spawner)
    deadline = time.monotonic() + 10
    while len(group.members()) < 32 and time.monotonic() < deadline:
        time.sleep(0.05)
    members = group.members()
    assert len(members) == 32
    group.remove()
    assert proc.wait(timeout=10) == -signal.SIGKILL
    assert not any(folder.exists() for folder in group.folders.values())
    for pid in members:
        with suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def test_a_batch_folder_removed_under_a_running_grader_is_made_again(batch: Batch) -> None:
    for folder in dict.fromkeys(batch.folders.values()):
        folder.rmdir()  # as a clean-up that took this grader for gone would
    group = batch.new_group(256 * MiB, 64)
    try:
        assert all(folder.is_dir() for folder in group.folders.values())
        assert all(folder.parent in batch.folders.values() for folder in group.folders.values())
    finally:
        group.remove()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# --- a machine that refuses ------------------------------------------------------------------

PROBE = """
import json
from grader import cgroups
batch = cgroups.process_batch()
refused = batch.missing if isinstance(batch, cgroups.Batch) else cgroups.CONTROLLERS
print(json.dumps(sorted(refused)))
"""
WORDING = {"memory": "memory limits per sandbox unavailable", "pids": "process limits per sandbox"}


@pytest.mark.timeout(120)
def test_a_limit_the_machine_refuses_is_named_in_the_advice(tmp_path: Path) -> None:
    """An ordinary user without a delegated subtree: whatever cgroup it is refused is named."""
    prefix = without_root()
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    refused = json.loads(probe.stdout)
    if not refused:
        pytest.skip("this machine gives an ordinary user every cgroup controller")
    make_submission(tmp_path / "class" / "solutions")
    results = tmp_path / "results"
    options = ("--submissions", str(tmp_path / "class"), "--results-dir", str(results))
    done = grader(*options, "--exercise", "ex1", command=(*prefix, *GRADER))
    assert done.returncode == 0, done.stderr[-2000:]
    (record,) = [json.loads(path.read_text()) for path in results.glob("*.json")]
    advice = record["result"]["exercises"][0]["advice"]
    for controller in refused:
        assert any(WORDING[controller] in note for note in advice), advice
