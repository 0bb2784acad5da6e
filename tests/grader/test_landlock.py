"""grader.landlock on the real kernel: a restricted child may open only what it was given.

Each test forks a child that restricts itself and reports what it could still do,
so the test process itself stays unrestricted.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from grader import landlock

pytestmark = pytest.mark.skipif(
    landlock.abi_version() == 0, reason="this kernel has no Landlock (Linux 5.13 or later)"
)


def attempt(action: Callable[[], object]) -> str:
    """'ok', or the name of the exception ``action`` raised."""
    try:
        action()
    except OSError as exc:
        return type(exc).__name__
    return "ok"


def restricted(
    read: list[Path],
    write: list[Path],
    probes: dict[str, Callable[[], object]],
    hidden: list[Path] | None = None,
):
    """Fork, restrict the child to ``read`` and ``write``, run each probe there; their results."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(reader)
            landlock.restrict(read=read, write=write, hidden=hidden or [])
            results = {name: attempt(probe) for name, probe in probes.items()}
            os.write(writer, json.dumps(results).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output
    return json.loads(output)


def test_only_the_given_paths_can_be_opened(tmp_path: Path) -> None:
    readable, writable, elsewhere = (tmp_path / name for name in ("readable", "writable", "other"))
    for folder in (readable, writable, elsewhere):
        folder.mkdir()
        (folder / "file.txt").write_text("text")
    got = restricted(
        [readable],
        [writable],
        {
            "read allowed": lambda: (readable / "file.txt").read_text(),
            "write where read-only": lambda: (readable / "file.txt").write_text("changed"),
            "read writable": lambda: (writable / "file.txt").read_text(),
            "create in writable": lambda: (writable / "new.txt").write_text("new"),
            "read elsewhere": lambda: (elsewhere / "file.txt").read_text(),
            "list elsewhere": lambda: list(elsewhere.iterdir()),
        },
    )
    assert got == {
        "read allowed": "ok",
        "write where read-only": "PermissionError",
        "read writable": "ok",
        "create in writable": "ok",
        "read elsewhere": "PermissionError",
        "list elsewhere": "PermissionError",
    }
    assert (writable / "new.txt").read_text() == "new"
    assert (readable / "file.txt").read_text() == "text"


def test_a_single_file_can_be_allowed(tmp_path: Path) -> None:
    (tmp_path / "allowed.txt").write_text("yes")
    (tmp_path / "denied.txt").write_text("no")
    got = restricted(
        [tmp_path / "allowed.txt"],
        [],
        {
            "allowed": lambda: (tmp_path / "allowed.txt").read_text(),
            "its neighbour": lambda: (tmp_path / "denied.txt").read_text(),
        },
    )
    assert got == {"allowed": "ok", "its neighbour": "PermissionError"}


@pytest.mark.skipif(
    landlock.abi_version() < landlock.SCOPES_FROM_ABI,
    reason="this kernel's Landlock cannot keep signals inside (ABI 6, Linux 6.12)",
)
def test_processes_outside_cannot_be_signalled() -> None:
    parent = os.getpid()
    got = restricted(
        [Path(sys.prefix)],
        [],
        {
            "signal the parent": lambda: os.kill(parent, 0),
            "signal itself": lambda: os.kill(os.getpid(), 0),
        },
    )
    assert got == {"signal the parent": "PermissionError", "signal itself": "ok"}


def test_every_right_the_kernel_knows_is_handled() -> None:
    abi = landlock.abi_version()
    handled = landlock.handled_rights(abi)
    assert handled & landlock.READ == landlock.READ
    assert bool(handled & landlock.REFER) == (abi >= 2)
    assert bool(handled & landlock.TRUNCATE) == (abi >= 3)
    assert bool(handled & landlock.IOCTL_DEV) == (abi >= 5)


def test_a_hidden_folder_stays_unreadable_beneath_a_readable_one(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "kit" / "samples").mkdir(parents=True)
    (site / "kit" / "samples" / "right.py").write_text("ANSWER = 42\n")
    (site / "kit" / "__init__.py").write_text("")
    (site / "other").mkdir()
    (site / "other" / "__init__.py").write_text("VALUE = 'other'\n")
    (site / "single.py").write_text("VALUE = 'single'\n")
    (site / "into_kit").symlink_to(site / "kit" / "samples")
    (site / "to_top").symlink_to(tmp_path)
    got = restricted(
        [Path(sys.prefix), Path(sys.base_prefix), site],
        [],
        {
            "list the folder": lambda: sorted(path.name for path in site.iterdir()),
            "read a package": lambda: (site / "other" / "__init__.py").read_text(),
            "read a module": lambda: (site / "single.py").read_text(),
            "read the hidden": lambda: (site / "kit" / "samples" / "right.py").read_text(),
            "read it by a link": lambda: (site / "into_kit" / "right.py").read_text(),
            "read it by a link up": lambda: (
                site / "to_top" / "site-packages" / "kit" / "__init__.py"
            ).read_text(),
        },
        hidden=[site / "kit"],
    )
    assert got == {
        "list the folder": "ok",
        "read a package": "ok",
        "read a module": "ok",
        "read the hidden": "PermissionError",
        "read it by a link": "PermissionError",
        "read it by a link up": "PermissionError",
    }


def test_rules_list_the_folders_above_a_hidden_path_and_allow_the_rest(tmp_path: Path) -> None:
    (tmp_path / "a" / "hidden").mkdir(parents=True)
    (tmp_path / "a" / "kept").mkdir()
    (tmp_path / "b").mkdir()
    rules = dict(landlock.readable_rules([tmp_path], [tmp_path / "a" / "hidden"]))
    assert rules == {
        tmp_path.resolve(): landlock.READ_DIR,
        tmp_path.resolve() / "a": landlock.READ_DIR,
        tmp_path.resolve() / "a" / "kept": landlock.READ,
        tmp_path.resolve() / "b": landlock.READ,
    }


def test_a_named_root_inside_a_hidden_folder_stays_readable(tmp_path: Path) -> None:
    (tmp_path / "clone" / ".venv" / "site-packages").mkdir(parents=True)
    (tmp_path / "clone" / "solutions").mkdir()
    venv = tmp_path.resolve() / "clone" / ".venv" / "site-packages"
    rules = landlock.readable_rules([tmp_path, venv], [tmp_path / "clone"])
    assert dict(rules) == {tmp_path.resolve(): landlock.READ_DIR, venv: landlock.READ}


READS = """

from pathlib import Path as _Path


def _outcome(path):
    try:
        _Path(path).read_bytes()
    except OSError as exc:
        return type(exc).__name__
    return "ok"


_READS = {{name: _outcome(path) for name, path in {targets!r}.items()}}
_READS["its own module"] = _outcome(__file__)


@app.get("/reads")
def reads():
    return _READS
"""


def test_a_server_reads_python_and_its_own_copy_but_nothing_of_the_kit(tmp_path: Path) -> None:
    import fastapi

    from grader.exercises.ex1_stream_lines import EXERCISE as EX1
    from tests.grader.helpers import reference, sandbox

    package = Path(landlock.__file__).resolve().parent
    targets = {
        "the grader's code": str(package / "fixtures.py"),
        "a sample": str(next((package / "samples").rglob("*.py"))),
        "the clone": str(package.parent / "pyproject.toml"),
        "a solution": str(package.parent / "solutions" / EX1.filename),
        "the standard library": json.__file__,
        "site-packages": fastapi.__file__,
    }
    with sandbox(tmp_path, reference(EX1) + READS.format(targets=targets)) as box:
        assert box.wait_ready() == {}
        reads = box.client(EX1).get("/reads").json()
    assert reads == {
        "the grader's code": "PermissionError",
        "a sample": "PermissionError",
        "the clone": "PermissionError",
        "a solution": "PermissionError",
        "the standard library": "ok",
        "site-packages": "ok",
        "its own module": "ok",
    }


def test_from_a_clone_the_package_and_the_whole_clone_are_hidden(tmp_path: Path) -> None:
    from grader.jail import kit_paths

    (tmp_path / "clone" / "grader").mkdir(parents=True)
    (tmp_path / "clone" / "pyproject.toml").write_text("[project]\n")
    package = tmp_path / "clone" / "grader"
    assert kit_paths(package, installed=(str(tmp_path / "venv"),)) == [package, package.parent]


def test_installed_in_site_packages_only_the_package_is_hidden(tmp_path: Path) -> None:
    from grader.jail import kit_paths

    site = tmp_path / "venv" / "site-packages"
    (site / "grader").mkdir(parents=True)
    (site / "pyproject.toml").write_text("# some other distribution's stray file\n")
    package = site / "grader"
    assert kit_paths(package, installed=(str(site),)) == [package]
    rules = dict(landlock.readable_rules([site], kit_paths(package, installed=(str(site),))))
    assert rules == {
        site.resolve(): landlock.READ_DIR,
        site.resolve() / "pyproject.toml": landlock.READ,
    }
