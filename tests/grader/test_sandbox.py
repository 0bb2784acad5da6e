"""The jail a submission is served from: limits, lifecycle, import failures, isolation, cleanup.

A sandbox is two processes: init (the grader's child, PID 1 of a fresh PID
namespace) and the server (PID 2, init's first child), which serves every
exercise app of the submission. The tests find the server through init, and
judge the namespace by who is in it.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

import httpx2
import psutil
import pytest

from grader.errors import SubmissionError
from grader.exercises import Exercise, ex1_stream_lines, ex2_fix_sse
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.probe import INPUTS_HEADER, encode_inputs
from grader.sandbox import SERVER_SOCKET, Limits, MiB, Sandbox, warm_up
from tests.grader.helpers import (
    FAST,
    ROOT,
    SETTLE,
    SOLUTIONS,
    Listener,
    describe,
    make_submission,
    reference,
    sandbox,
    serving,
    wait_until,
    with_code,
)

PRIVATE_TEXT = "only root may read this"
NO_NAMESPACES = "namespace unavailable"
JAIL_ENVIRONMENT = {"HOME", "TMPDIR", "PATH", "LANG", "PYTHONDONTWRITEBYTECODE"}
SERVER_IN_NAMESPACE = 2  # init is PID 1 of the namespace, the server the first process it starts
SPAWNED = 1 + 1 + 1 + 5 + 1  # SPAWNER's namespace: init, server, sleep, forks, daemon


# --- helpers of this file ----------------------------------------------------------------


def alive(pid: int) -> bool:
    """True while ``pid`` names a process that has not ended (zombies have ended)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def survivors(pids: list[int]) -> list[int]:
    """Those of ``pids`` still alive once they had a bounded time to end."""
    wait_until(lambda: not any(alive(pid) for pid in pids))
    return [pid for pid in pids if alive(pid)]


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Import the server's dependencies once, so every sandbox forks ready to serve."""
    warm_up()


def startup_error(box: Sandbox, ex: Exercise = EX1) -> SubmissionError | None:
    """Why ``ex``'s module is not served: the import failure reported, or the server lost."""
    try:
        return box.wait_ready().get(ex.id)
    except SubmissionError as exc:
        return exc


def import_error(tmp: Path, source: str | None, limits: Limits = FAST) -> SubmissionError:
    """Why a module that cannot be served is not."""
    with sandbox(tmp, source, limits) as box:
        error = startup_error(box)
    if error is None:
        pytest.fail("the server became ready, though the module should not have imported")
    return error


def namespace_of(pid: int) -> str:
    """The PID namespace a process lives in."""
    return str(Path(f"/proc/{pid}/ns/pid").readlink())


def namespace_members(pid: int) -> list[int]:
    """Every process in the PID namespace of ``pid``."""
    namespace = namespace_of(pid)
    members = []
    for proc in psutil.process_iter():
        try:
            if namespace_of(proc.pid) == namespace:
                members.append(proc.pid)
        except OSError:
            continue
    return members


def require_namespaces(notes: list[str]) -> None:
    """Skip, saying why, where the kernel refused the sandbox its namespaces."""
    refused = [note for note in notes if NO_NAMESPACES in note]
    if refused:
        pytest.skip(refused[0])


def require_root() -> None:
    """Skip, saying why, where the grader cannot give the jail a user of its own."""
    if os.getuid() != 0:
        pytest.skip("the jail changes to a user of its own only when the grader runs as root")


def children(pid: int) -> list[int]:
    """The PIDs of a process's children, oldest first."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def server_of(init_pid: int) -> int:
    """The server's PID: init's oldest child (orphans init adopts later come after it)."""
    found = children(init_pid)
    assert found, f"the sandbox's init {init_pid} has no child: no server is running"
    return found[0]


def pid_in_namespace(pid: int) -> int:
    """A process's PID as seen inside its own PID namespace."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    raise AssertionError(f"/proc/{pid}/status has no NSpid line")


def describe_pids(pids: list[int]) -> list[str]:
    """Pid and command line of each process that still exists, for assertion messages."""
    procs = []
    for pid in pids:
        with suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    return describe(procs)


# --- lifecycle ---------------------------------------------------------------------------


def test_a_sandbox_serves_the_module_until_it_is_left(tmp_path: Path) -> None:
    with sandbox(tmp_path, reference(EX1)) as box:
        assert box.pid > 0
        assert box.wait_ready() == {}
        assert psutil.Process(box.pid).ppid() == os.getpid()
        server = server_of(box.pid)
        assert children(box.pid) == [server]
        assert box.socket_path.exists()
        lines = ex1_stream_lines.lines(1)
        response = box.client(EX1).get(EX1.path, headers={INPUTS_HEADER: encode_inputs(lines)})
        assert response.status_code == 200
        assert response.text == "".join(f"{line}\n" for line in lines)
        assert box.death() is None
        started = [box.pid, server]
    assert wait_until(lambda: not any(alive(pid) for pid in started)), started


def test_one_server_serves_several_exercise_apps_of_the_submission(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "submission")
    with serving(folder, (EX1, EX2)) as box:
        assert box.wait_ready() == {}
        assert children(box.pid) == [server_of(box.pid)]
        shown_lines, shown_messages = ex1_stream_lines.lines(2), ex2_fix_sse.messages(2)
        lines = box.client(EX1).get(EX1.path, headers={INPUTS_HEADER: encode_inputs(shown_lines)})
        messages = box.client(EX2).get(
            EX2.path, headers={INPUTS_HEADER: encode_inputs(shown_messages)}
        )
        assert box.client(EX1).get(EX2.path).status_code == 404  # ex1's app has no /messages
    assert lines.text == "".join(f"{line}\n" for line in shown_lines)
    assert messages.text == "".join(f"data: {m}\n\n" for m in shown_messages)


def test_a_module_that_fails_to_import_is_reported_and_the_others_served(tmp_path: Path) -> None:
    broken = reference(EX2) + "\nraise RuntimeError('half done')\n"
    folder = make_submission(tmp_path / "submission", {EX2: broken})
    with serving(folder, (EX1, EX2)) as box:
        failures = box.wait_ready()
        served = box.client(EX1).get(EX1.path).status_code
    assert list(failures) == [EX2.id]
    assert "raised RuntimeError: half done" in failures[EX2.id].message
    assert served == 200


def test_the_server_death_is_explained_to_feedback(tmp_path: Path) -> None:
    source = with_code(
        """
        import os


        @app.get("/exit")
        def leave():
            os._exit(7)
        """
    )
    with sandbox(tmp_path, source) as box:
        box.wait_ready()
        with pytest.raises(httpx2.TransportError):
            box.client(EX1).get("/exit")
        assert "exited with status 7" in (box.explain() or "")


# --- import failures ---------------------------------------------------------------------

IMPORT_FAILURES = {
    "missing": (None, "ex1_stream_lines.py is missing"),
    "syntax error": (reference(EX1) + "\nlines = [\n", "SyntaxError"),
    "no app": (with_code("del app\n"), "no module-level `app`"),
    "not asgi": (with_code("app = 42\n"), "not an ASGI app"),
    "exception": (with_code("raise ValueError('boom')\n"), "ValueError: boom"),
    "sys.exit": (with_code("import sys\nsys.exit(3)\n"), "called sys.exit(3)"),
    "os._exit": (with_code("import os\nos._exit(3)\n"), "exited with status 3"),
    "own signal": (
        with_code("import signal\nsignal.raise_signal(signal.SIGTERM)\n"),
        "killed by SIGTERM",
    ),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", IMPORT_FAILURES)
def test_an_import_failure_is_named(tmp_path: Path, case: str) -> None:
    source, expected = IMPORT_FAILURES[case]
    error = import_error(tmp_path, source)
    assert expected in error.message


def test_an_exception_at_import_names_its_line(tmp_path: Path) -> None:
    source = with_code("raise ValueError('boom')\n")
    line = source.splitlines().index("raise ValueError('boom')") + 1
    error = import_error(tmp_path, source)
    assert f"ex1_stream_lines.py line {line}: raised ValueError: boom" in error.message
    assert "Traceback" in error.details


# --- limits ------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_an_import_that_never_ends_is_cut_at_the_timeout(tmp_path: Path) -> None:
    error = import_error(tmp_path, with_code("import time\ntime.sleep(3600)\n"), Limits(timeout=1))
    assert "did not finish importing within 1 s" in error.message


@pytest.mark.timeout(60)
def test_cpu_time_is_limited(tmp_path: Path) -> None:
    limits = Limits(timeout=30, cpu_seconds=1)
    error = import_error(tmp_path, with_code("while True:\n    pass\n"), limits)
    assert "more than 1 s of CPU time" in error.message


@pytest.mark.timeout(30)
def test_memory_beyond_the_limit_fails_and_within_it_is_served(tmp_path: Path) -> None:
    hoard = with_code("hoard = bytearray(200 << 20)\n")
    error = import_error(tmp_path / "tight", hoard, Limits(timeout=5, memory=64 * MiB))
    assert "ran out of memory" in error.message
    with sandbox(tmp_path / "roomy", hoard, Limits(timeout=5, memory=512 * MiB)) as box:
        assert box.wait_ready() == {}


def test_the_peak_memory_of_the_whole_sandbox_is_read_once_it_stopped(tmp_path: Path) -> None:
    """From the sandbox's cgroup: what its processes held at most, together."""
    held = with_code("import os, signal\nheld = b'x' * (100 << 20)\nos.fork() or signal.pause()\n")
    with sandbox(tmp_path, held, Limits(timeout=5, memory=512 * MiB)) as box:
        assert box.wait_ready() == {}
        if box.group is None:
            pytest.skip(f"no cgroup for this sandbox: {box.notes}")
    assert 100 * MiB < box.peak_memory < 512 * MiB
    assert box.group is None, "the cgroup is removed when the sandbox stops"


@pytest.mark.timeout(30)
def test_an_output_flood_keeps_its_head_and_tail_and_the_module_is_served(tmp_path: Path) -> None:
    chatter = with_code(
        "print('FIRST LINE')\nfor _ in range(8192):\n    print('x' * 1023)\nprint('LAST LINE')\n"
    )
    with sandbox(tmp_path, chatter, Limits(timeout=10, output=1 * MiB)) as box:
        assert box.wait_ready() == {}
        assert box.client(EX1).get(EX1.path).status_code == 200
        size = box.log_path.stat().st_size
        log = box.log_tail()
    assert size < 64 * 1024  # 8 MiB printed, under a 1 MiB file-size limit
    assert log.startswith("FIRST LINE\n")
    assert log.rstrip().endswith("LAST LINE")
    assert "bytes of output left out" in log


# --- isolation ---------------------------------------------------------------------------

FACTS = """
import json
import os
import socket
import sys
from pathlib import Path


def attempt(action):
    try:
        action()
    except BaseException as exc:
        return type(exc).__name__ + ": " + str(exc)
    return "ok"


def read(path):
    try:
        return Path(path).read_bytes().decode("latin-1")
    except BaseException as exc:
        return type(exc).__name__ + ": " + str(exc)


def mount_of(folder):
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[4] == folder:
            return line.split(" - ")[1]
    return ""


def connect_unix(path):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)


def import_solutions():
    import solutions  # noqa: F401


def connect():
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()


SERVER_SOCKET = Path.home().parent / {server_socket!r}
facts = {{
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "uid": os.getuid(),
    "cwd": os.getcwd(),
    "home": str(Path.home()),
    "environ": dict(os.environ),
    "environ_block": read("/proc/self/environ"),
    "grader_environ": read("/proc/{grader_pid}/environ"),
    "init_environ": read("/proc/1/environ"),
    "visible_pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "home_mount": mount_of(str(Path.home())),
    "namespaces": {{kind: os.readlink(f"/proc/self/ns/{{kind}}") for kind in ("ipc", "mnt")}},
    "write_shared_memory": attempt(lambda: Path("/dev/shm/planted").write_text("")),
    "connect_server_socket": attempt(lambda: connect_unix(str(SERVER_SOCKET))),
    "rename_server_socket": attempt(lambda: SERVER_SOCKET.rename(SERVER_SOCKET.with_suffix(".x"))),
    "remove_server_socket": attempt(SERVER_SOCKET.unlink),
    "write_outside_home": attempt(lambda: Path.home().parent.joinpath("planted").write_text("")),
    "sys_path": sys.path,
    "import_solutions": attempt(import_solutions),
    "signal_grader": attempt(lambda: os.kill({grader_pid}, 0)),
    "connect": attempt(connect),
    "read_reference": read({reference!r}),
    "read_private": read({private!r}),
    "read_etc_shadow": read("/etc/shadow"),
    "read_python": read(json.__file__),
}}
Path.home().joinpath("facts.json").write_text(json.dumps(facts))
"""


def gather_facts(tmp: Path, limits: Limits) -> tuple[dict, list[str], int, Path]:
    """What a module sees from inside a sandbox, the sandbox's notes, connections it made, and
    the sandbox's working folder."""
    with Listener() as listener:
        # A file only root may read: the jail's user gets past that (it keeps the right to
        # read files, for an interpreter that lives where others cannot read), but not past
        # Landlock's list of what the server may open.
        private = tmp / "private" / "answers.txt"
        private.parent.mkdir(parents=True, mode=0o700)
        private.write_text(PRIVATE_TEXT)
        private.chmod(0o600)
        source = with_code(
            FACTS.format(
                port=listener.port,
                grader_pid=os.getpid(),
                reference=str(SOLUTIONS / EX1.filename),
                private=str(private),
                server_socket=SERVER_SOCKET,
            )
        )
        with sandbox(tmp, source, limits) as box:
            assert box.wait_ready() == {}
            # The home is the server's own tmpfs: seen through the server's mount namespace.
            home = Path(f"/proc/{box.server_pid()}/root") / str(box.workdir / "home").lstrip("/")
            facts = json.loads((home / "facts.json").read_text())
            notes = list(box.notes)
            facts["home_seen_by_the_grader"] = list((box.workdir / "home").iterdir())
            facts["server_socket_mode"] = box.socket_path.stat().st_mode & 0o777
    return facts, notes, listener.connections, box.workdir


@pytest.fixture(scope="module")
def inside(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[str], int, Path]:
    """The facts, notes, connections and working folder of one isolated sandbox.

    The reference solutions are imported here first, as a test run may have done:
    the server must not find them in the sys.modules it inherits.
    """
    importlib.import_module(f"solutions.{EX1.module}")
    return gather_facts(tmp_path_factory.mktemp("inside"), FAST)


def test_the_server_is_pid_2_under_the_init_of_its_own_namespace(inside: tuple) -> None:
    facts, notes, _, _ = inside
    require_namespaces(notes)
    assert facts["pid"] == SERVER_IN_NAMESPACE
    assert facts["ppid"] == 1
    assert facts["signal_grader"].startswith("ProcessLookupError"), facts["signal_grader"]


def test_the_server_runs_as_a_user_of_its_own(inside: tuple) -> None:
    facts, _, _, _ = inside
    require_root()
    assert facts["uid"] != 0
    # init (root, forked from the grader) still holds a copy of the grader's environment;
    # the grader is not even in the sandbox's /proc
    assert facts["init_environ"].startswith("PermissionError"), facts["init_environ"]
    assert facts["grader_environ"].startswith("FileNotFoundError"), facts["grader_environ"]
    assert facts["write_outside_home"].startswith("PermissionError"), facts["write_outside_home"]


def test_the_home_is_a_capped_tmpfs_only_the_sandbox_sees(inside: tuple) -> None:
    facts, notes, _, _ = inside
    require_namespaces(notes)
    assert facts["home_mount"].startswith("tmpfs "), facts["home_mount"]
    size = next(o for o in facts["home_mount"].split(",") if o.startswith("size="))
    assert size == f"size={FAST.scratch // 1024}k"
    assert facts["home_seen_by_the_grader"] == []
    assert facts["write_shared_memory"] != "ok"


def test_ipc_objects_mounts_and_processes_are_the_sandbox_s_own(inside: tuple) -> None:
    facts, notes, _, _ = inside
    require_namespaces(notes)
    for kind, namespace in facts["namespaces"].items():
        assert namespace != str(Path(f"/proc/self/ns/{kind}").readlink()), kind
    # init, the server and whatever the server started: not the grader, nor the machine
    assert facts["visible_pids"][:2] == [1, SERVER_IN_NAMESPACE]
    assert os.getpid() not in facts["visible_pids"] or len(facts["visible_pids"]) < 5


def test_the_server_socket_is_the_grader_s(inside: tuple) -> None:
    facts, _, _, _ = inside
    for attack in ("rename_server_socket", "remove_server_socket"):
        assert facts[attack].startswith("PermissionError"), facts[attack]
    if os.getuid() == 0:  # the sandbox's own user may not even connect to it
        assert facts["connect_server_socket"].startswith("PermissionError"), facts
        assert facts["server_socket_mode"] == 0o600


def test_the_network_is_unreachable_inside(inside: tuple) -> None:
    facts, _, connections, _ = inside
    assert facts["connect"] != "ok"
    assert connections == 0


def test_allow_network_lets_the_same_module_connect(tmp_path: Path) -> None:
    facts, _, connections, _ = gather_facts(tmp_path, Limits(timeout=5, isolate_network=False))
    assert facts["connect"] == "ok"
    assert connections == 1


def test_the_module_runs_in_a_private_folder_and_environment(inside: tuple) -> None:
    facts, _, _, workdir = inside
    assert facts["cwd"] == facts["home"] == str(workdir / "home")
    assert set(facts["environ"]) <= JAIL_ENVIRONMENT
    assert facts["environ"]["HOME"] == str(workdir / "home")


def test_the_grader_s_environment_is_wiped_from_the_server_s_memory(inside: tuple) -> None:
    facts, _, _, _ = inside
    block = facts["environ_block"]
    assert "=" not in block, f"the server's original environment still holds: {block[:200]!r}"
    assert block.strip("\0") == "", block[:200]


def test_files_outside_python_the_submission_and_its_home_cannot_be_read(inside: tuple) -> None:
    facts, notes, _, _ = inside
    if any("Landlock" in note for note in notes):
        pytest.skip(next(note for note in notes if "Landlock" in note))
    for fact in ("read_reference", "read_private", "read_etc_shadow"):
        assert facts[fact].startswith("PermissionError"), (fact, facts[fact][:200])
    assert "import" in facts["read_python"], "the standard library must stay readable"


def test_only_the_submission_and_installed_packages_are_importable(inside: tuple) -> None:
    facts, _, _, workdir = inside
    assert facts["import_solutions"].startswith("ModuleNotFoundError"), facts["import_solutions"]
    assert facts["sys_path"][0] == str(workdir / "submission")
    assert not any(entry in ("", ".", str(ROOT)) for entry in facts["sys_path"])


# --- cleanup -----------------------------------------------------------------------------

SPAWNER = """
import os
import subprocess
import time

sleeper = subprocess.Popen(["sleep", "3600"])
for _ in range(5):
    if os.fork() == 0:
        time.sleep(3600)
        os._exit(0)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.chdir("/")
        time.sleep(3600)
    os._exit(0)
"""


def spawned_namespace(init: int) -> list[int]:
    """Every process in init's namespace, once SPAWNER's processes are all there."""
    server = server_of(init)
    assert namespace_of(server) != namespace_of(os.getpid()), "the server shares our namespace"
    assert namespace_of(init) == namespace_of(server)
    assert pid_in_namespace(init) == 1
    assert pid_in_namespace(server) == SERVER_IN_NAMESPACE
    enough = wait_until(lambda: len(namespace_members(server)) >= SPAWNED)
    members = namespace_members(server)
    assert enough, f"expected {SPAWNED} processes in the namespace: {describe_pids(members)}"
    return members


def leftovers(pids: list[int]) -> list[str]:
    """Those of ``pids`` still alive after a bounded wait, described, then killed."""
    left = survivors(pids)
    described = describe_pids(left)
    for pid in left:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return described


@pytest.mark.timeout(60)
def test_leaving_a_sandbox_ends_every_process_the_module_started(tmp_path: Path) -> None:
    with sandbox(tmp_path, with_code(SPAWNER)) as box:
        box.wait_ready()
        require_namespaces(box.notes)
        started = spawned_namespace(box.pid)
    assert leftovers(started) == []


GRADER_THAT_DIES = """
import json, sys, time
from pathlib import Path
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.sandbox import Limits, Sandbox

folder, workdir = Path(sys.argv[1]), Path(sys.argv[2])
with Sandbox(folder, (EX1,), Limits(timeout=5), workdir, None) as box:
    box.wait_ready()
    print(json.dumps({"init": box.pid, "notes": box.notes}), flush=True)
    time.sleep(3600)
"""


@pytest.mark.timeout(60)
def test_a_sandbox_dies_with_the_grader_that_started_it(tmp_path: Path) -> None:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / EX1.filename).write_text(with_code(SPAWNER), encoding="utf-8")
    # The jail's user must reach its folder: pytest's tmp_path is private to root.
    with tempfile.TemporaryDirectory(prefix="grader-test-") as workdir:
        command = [sys.executable, "-c", GRADER_THAT_DIES, str(folder), workdir]
        grader = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            line = grader.stdout.readline()
            if not line:
                _, errors = grader.communicate(timeout=SETTLE)
                pytest.fail(f"the grader never served the module:\n{errors}")
            sandbox_of = json.loads(line)
            require_namespaces(sandbox_of["notes"])
            started = spawned_namespace(sandbox_of["init"])
            grader.send_signal(signal.SIGKILL)
        finally:
            grader.kill()
            grader.wait(timeout=SETTLE)
            grader.stdout.close()
            grader.stderr.close()
        assert leftovers(started) == []


GRADE_AFTER_WARM_UP = """
import sys
from pathlib import Path

from grader.jail import foreign_modules
from grader.runner import grade_submission
from grader.sandbox import Limits, warm_up

warm_up()
found = foreign_modules()
before = set(sys.modules)
result = grade_submission(Path(sys.argv[1]), Limits(timeout=5.0))
assert not result.ungraded, result.ungraded
print(sorted(set(sys.modules) - before))
print(foreign_modules() is found)
"""


def test_grading_after_warm_up_imports_nothing_new(tmp_path: Path) -> None:
    """A batch's workers fork from a process that ran warm_up(): grading imports nothing more.

    Each submission is graded by a child of its own, which would otherwise import
    the same modules again, and its sandboxes keep the foreign modules found before
    the workers were forked instead of scanning every module again.
    """
    folder = make_submission(tmp_path / "submission")
    done = subprocess.run(
        [sys.executable, "-c", GRADE_AFTER_WARM_UP, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["[]", "True"], done.stdout
