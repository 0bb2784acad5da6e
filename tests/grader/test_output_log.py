"""What a server prints is kept as its head and tail, in a file that never grows past them."""

from __future__ import annotations

import os
from pathlib import Path

from grader.output_log import HEAD, TAIL, read_log, text_stream


def printed(path: Path, lines: list[str]) -> None:
    """Print ``lines`` through the log stream onto ``path``, as a server's sys.stdout would."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        stream = text_stream(fd)
        for line in lines:
            print(line, file=stream)
        stream.flush()
    finally:
        os.close(fd)


def test_a_short_output_is_kept_whole(tmp_path):
    log = tmp_path / "output.log"
    printed(log, ["hello", "wörld"])
    assert log.read_text(encoding="utf-8") == "hello\nwörld\n"
    assert read_log(log, 4000) == "hello\nwörld\n"


def test_a_flood_keeps_its_head_and_tail_and_says_how_much_is_left_out(tmp_path):
    log = tmp_path / "output.log"
    lines = [f"line {i:>7} " + "x" * 90 for i in range(100_000)]
    printed(log, lines)
    total = sum(len(line) + 1 for line in lines)
    data = log.read_bytes()
    assert len(data) < HEAD + TAIL + 100
    text = data.decode()
    assert text.startswith(lines[0] + "\n" + lines[1])
    assert text.endswith(lines[-2] + "\n" + lines[-1] + "\n")
    left_out = total - HEAD - TAIL
    assert f"[... {left_out:,} bytes of output left out ...]" in text


def test_output_just_past_the_head_is_kept_without_a_gap(tmp_path):
    log = tmp_path / "output.log"
    text = "a" * (HEAD + TAIL // 2)
    printed(log, [text])
    assert log.read_text() == text + "\n"


def test_a_log_grown_by_direct_writes_is_read_as_its_start_and_end(tmp_path):
    log = tmp_path / "output.log"
    log.write_bytes(b"START" + b"m" * 100_000 + b"END")
    shown = read_log(log, 1000)
    assert shown.startswith("START")
    assert shown.endswith("END")
    assert "bytes of output left out" in shown
    assert len(shown) < 1100


def test_a_closed_descriptor_loses_the_output_without_failing_the_writer(tmp_path):
    fd = os.open(tmp_path / "output.log", os.O_WRONLY | os.O_CREAT, 0o600)
    stream = text_stream(fd)
    os.close(fd)  # as a submission closing every descriptor would
    print("x" * (HEAD + TAIL), file=stream)
    stream.flush()
