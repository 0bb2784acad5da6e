"""The streaming-versus-buffered benchmark (benchmarks/streaming_memory.py), on a tiny size."""

import json

import pytest
from fastapi.testclient import TestClient

from benchmarks import streaming_memory as bench


@pytest.mark.parametrize("app_name", [ref.partition(":")[2] for ref in bench.MODES.values()])
def test_every_mode_serves_the_same_body(app_name):
    r = TestClient(getattr(bench, app_name)).get("/body", params={"mib": 2})
    assert r.status_code == 200
    assert r.content == bench.CHUNK * (2 * bench.MIB // bench.CHUNK_SIZE)


def test_only_buffered_sets_a_content_length():
    lengths = {
        mode: TestClient(getattr(bench, ref.partition(":")[2]))
        .get("/body", params={"mib": 1})
        .headers.get("content-length")
        for mode, ref in bench.MODES.items()
    }
    assert lengths == {mode: (str(bench.MIB) if mode == "buffered" else None) for mode in lengths}


def test_quick_run_measures_every_mode_and_writes_the_json(tmp_path, capsys):
    output = tmp_path / "figures.json"
    assert bench.main(["--max-mb", "1", "--repeats", "1", "--output", str(output)]) == 0

    document = json.loads(output.read_text())
    command = ".venv/bin/python -m benchmarks.streaming_memory --max-mb 1 --repeats 1"
    assert document["command"] == command
    rows = document["measurements"]
    assert sorted(r["mode"] for r in rows) == sorted(bench.MODES)
    for row in rows:
        assert row["size_mib"] == 1
        assert row["requests"] == bench.requests_for(1, 1)
        assert row["ttfb_ms"] > 0
        assert row["throughput_mib_s"] > 0
        assert row["throughput_vs_bare_asgi"] > 0
    assert next(r for r in rows if r["mode"] == "bare_asgi")["throughput_vs_bare_asgi"] == 1.0
    printed = capsys.readouterr().out
    assert "1 MiB: streaming peak +" in printed
    assert f"reproduce: {command}" in printed


def test_committed_figures_cover_every_size_and_mode():
    document = json.loads(bench.RESULTS.read_text())
    assert document["command"] == bench.COMMAND
    measured = {(r["mode"], r["size_mib"]) for r in document["measurements"]}
    assert measured == {(mode, size) for mode in bench.MODES for size in bench.SIZES_MIB}


@pytest.mark.parametrize("argv", [["--max-mb", "0"], ["--repeats", "0"]])
def test_bad_arguments_fail_clearly(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        bench.main(argv)
    assert stopped.value.code == 2
    assert "must be at least" in capsys.readouterr().err
