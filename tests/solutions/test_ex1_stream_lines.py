"""The reference solution of exercise 1 gives the lesson's answer, one chunk per line."""

from fastapi.testclient import TestClient

from solutions import ex1_stream_lines as solution

client = TestClient(solution.app)


def test_body_is_the_lines_the_lesson_shows():
    r = client.get("/lines")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == "alpha\nbeta\ngamma\n"


def test_each_line_is_its_own_chunk():
    with client.stream("GET", "/lines") as r:
        assert list(r.iter_raw()) == [b"alpha\n", b"beta\n", b"gamma\n"]
