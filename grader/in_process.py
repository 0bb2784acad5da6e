"""The client of in-process grading: Starlette's TestClient, an httpx client with an ASGI transport.

Grading in-process (trusted code only: reference solutions, tests of the
checks) differs from grading a sandboxed server only in this client. Its
transport calls the app in this process; the checks ask it everything they ask
a sandboxed server, the probe's routes included.
"""

from __future__ import annotations

from fastapi.testclient import TestClient


class InProcessClient(TestClient):
    """Starlette's TestClient, saying what its transport cannot do.

    When the client leaves a stream early, the transport hands the stream to the
    garbage collector instead of telling the app, so a hang-up is not delivered
    (``grader.grading.Target.hears_hang_ups``).
    """

    delivers_disconnect = False
