"""A real uvicorn server running the demo app on loopback, shared by a test module."""

from collections.abc import Iterator

import httpx2
import pytest

from lessons.demo.app import app
from lessons.demo.serve import serve_in_thread


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=10.0) as client:
        yield client
