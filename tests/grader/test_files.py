"""grader.files: a submission's files are read without following links, and only regular ones."""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

import pytest

from grader import files
from grader.errors import UnsafeFile
from grader.exercises import EXERCISES

SOURCE = b"from fastapi import FastAPI\n\napp = FastAPI()\n"


def refusal(folder: Path, name: str) -> str:
    """The message read_file refuses ``name`` with."""
    with pytest.raises(UnsafeFile) as caught:
        files.read_file(folder, name)
    return caught.value.message


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "ex1_stream_lines.py").write_bytes(SOURCE)
    assert files.read_file(tmp_path, "ex1_stream_lines.py") == SOURCE


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        files.read_file(tmp_path, "ex1_stream_lines.py")


def test_a_link_to_a_readable_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    secret = secrets.token_hex(8)
    target = tmp_path / "elsewhere.py"
    target.write_text(f"SECRET = {secret!r}\n")
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "ex1_stream_lines.py").symlink_to(target)
    message = refusal(submission, "ex1_stream_lines.py")
    assert message.startswith("ex1_stream_lines.py is a symbolic link, not a regular file")
    assert "copy the code itself into ex1_stream_lines.py" in message
    assert secret not in message


def test_a_link_to_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "ex3_async_tokens.py").symlink_to("/dev/zero")
    assert "is a symbolic link" in refusal(tmp_path, "ex3_async_tokens.py")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "ex2_fix_sse.py")
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(refusal(tmp_path, "ex2_fix_sse.py")))
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock it before failing, so the test process can end
        with open(tmp_path / "ex2_fix_sse.py", "wb"):  # noqa: PTH123
            pass
        reader.join()
        pytest.fail("reading a FIFO waited for a writer")
    assert outcome[0].startswith("ex2_fix_sse.py is a named pipe (FIFO), not a regular file")


def test_a_folder_named_like_a_module_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ex1_stream_lines.py").mkdir()
    assert refusal(tmp_path, "ex1_stream_lines.py").startswith("ex1_stream_lines.py is a folder")


def test_a_file_above_the_cap_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ex1_stream_lines.py").write_bytes(b"#" * (files.MAX_FILE_BYTES + 1))
    message = refusal(tmp_path, "ex1_stream_lines.py")
    assert message.startswith(f"ex1_stream_lines.py is larger than {files.MAX_FILE_BYTES // 1024}")


def test_a_linked_submission_folder_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "ex1_stream_lines.py").write_bytes(SOURCE)
    (tmp_path / "link").symlink_to(real)
    message = refusal(tmp_path / "link", "ex1_stream_lines.py")
    assert message == f"the submission folder {tmp_path / 'link'} is a symbolic link: " + (
        "grade the folder it names."
    )


def test_read_modules_keeps_regular_modules_and_names_the_refused(tmp_path: Path) -> None:
    (tmp_path / "ex1_stream_lines.py").write_bytes(SOURCE)
    (tmp_path / "helper.py").write_bytes(b"VALUE = 1\n")
    (tmp_path / "notes.txt").write_text("not a module")
    (tmp_path / "ex2_fix_sse.py").symlink_to(tmp_path / "helper.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    found = files.read_modules(tmp_path)
    assert found.files == {"ex1_stream_lines.py": SOURCE, "helper.py": b"VALUE = 1\n"}
    assert sorted(found.refused) == ["ex2_fix_sse.py", "zero.py"]
    assert all("symbolic link" in why for why in found.refused.values())


def test_read_modules_caps_the_number_of_files_keeping_the_exercises(tmp_path: Path) -> None:
    for index in range(files.MAX_MODULES + 3):
        (tmp_path / f"a{index:03}.py").write_bytes(b"")
    (tmp_path / "ex3_async_tokens.py").write_bytes(SOURCE)
    found = files.read_modules(tmp_path)
    assert len(found.files) == files.MAX_MODULES
    assert found.files["ex3_async_tokens.py"] == SOURCE
    assert len(found.refused) == 4
    assert all(f"at most {files.MAX_MODULES}" in why for why in found.refused.values())


def test_written_modules_are_plain_files_others_may_read(tmp_path: Path) -> None:
    source, copy = tmp_path / "source", tmp_path / "copy"
    source.mkdir()
    copy.mkdir()
    (source / "ex1_stream_lines.py").write_bytes(SOURCE)
    files.write_modules(files.read_modules(source), copy)
    written = copy / "ex1_stream_lines.py"
    assert written.read_bytes() == SOURCE
    assert not written.is_symlink()
    assert written.stat().st_mode & 0o777 == 0o644


def test_written_modules_are_readable_by_others_whatever_the_umask(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    (tmp_path / "copy").mkdir()
    (tmp_path / "source" / "ex1_stream_lines.py").write_bytes(SOURCE)
    mask = os.umask(0o077)
    try:
        files.write_modules(files.read_modules(tmp_path / "source"), tmp_path / "copy")
    finally:
        os.umask(mask)
    assert (tmp_path / "copy" / "ex1_stream_lines.py").stat().st_mode & 0o777 == 0o644


def test_a_linked_exercise_costs_only_itself_and_a_linked_helper_is_named(tmp_path: Path) -> None:
    from grader.runner import grade_submission
    from grader.sandbox import Limits

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "ex1_stream_lines.py").symlink_to(root / "solutions" / "ex1_stream_lines.py")
    (tmp_path / "ex2_fix_sse.py").write_bytes((root / "solutions" / "ex2_fix_sse.py").read_bytes())
    (tmp_path / "helper.py").symlink_to("/dev/zero")
    result = grade_submission(tmp_path, Limits(timeout=5.0), EXERCISES[:2])
    ex1, ex2 = result.exercises
    assert not ex1.passed
    assert ex1.checks[0].message.startswith("ex1_stream_lines.py is a symbolic link")
    assert ex2.passed, [check.message for check in ex2.checks if not check.passed]
    assert any(advice.startswith("helper.py is a symbolic link") for advice in ex2.advice)


def test_a_submission_whose_every_module_is_refused_is_graded_without_a_server(
    tmp_path: Path,
) -> None:
    from grader.runner import grade_submission
    from grader.sandbox import Limits

    for ex in EXERCISES:
        (tmp_path / ex.filename).symlink_to("/dev/zero")
    result = grade_submission(tmp_path, Limits(timeout=5.0))
    assert [ex.passed for ex in result.exercises] == [False] * len(EXERCISES)
    assert [ex.checks[0].message.split(" is ")[0] for ex in result.exercises] == [
        ex.filename for ex in EXERCISES
    ]
