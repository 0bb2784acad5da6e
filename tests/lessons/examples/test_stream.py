"""lessons/examples/stream.py: GET /stream prints what the lesson shows, one chunk per yield."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lessons.examples import stream

# What the lesson prints for GET /stream, line for line.
LESSON_PRINTOUT = r"""content-type: text/plain; charset=utf-8
body: 'chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n'"""


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(stream.app) as client:
        yield client


def test_get_stream_prints_what_the_lesson_shows(client: TestClient):
    r = client.get("/stream")
    assert r.status_code == 200
    assert f"content-type: {r.headers['content-type']}\nbody: {r.text!r}" == LESSON_PRINTOUT


def test_each_yield_arrives_as_its_own_chunk(client: TestClient):
    with client.stream("GET", "/stream") as r:
        chunks = list(r.iter_raw())
    assert chunks == [b"chunk 1\n", b"chunk 2\n", b"chunk 3\n", b"chunk 4\n", b"chunk 5\n"]


def test_generator_yields_lazily():
    chunks = stream.number_stream()
    assert next(chunks) == "chunk 1\n"
    assert list(chunks) == ["chunk 2\n", "chunk 3\n", "chunk 4\n", "chunk 5\n"]
