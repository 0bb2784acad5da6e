"""What the grader's probe inside a sandboxed server answers, read as hostile input.

The probe's routes run in the submission's process, which can replace them: an
answer may be of any type, any size, compressed, or never end. ``fetch_json``
asks for the answer uncompressed, refuses any Content-Encoding instead of
decoding it (a gzip bomb stays a few bytes), reads at most ``limit`` raw bytes
by a deadline, and parses it without letting deep nesting raise.
``server_errors`` keeps only entries of the exact shape the probe writes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from grader.transcript import StreamingClient

MAX_ERRORS_REPLY = 256 * 1024  # the probe records at most 20 errors of a few KiB each
HTTP_OK = 200
IDENTITY = {"accept-encoding": "identity"}


class Refused(ValueError):
    """An answer the grader will not read."""


def fetch_json(client: StreamingClient, path: str, limit: int, timeout: float) -> Any:
    """GET ``path`` and return its JSON; raise Refused (or the client's error) otherwise."""
    deadline = time.monotonic() + timeout
    with client.stream("GET", path, headers=IDENTITY, timeout=timeout) as reply:
        coding = reply.headers.get("content-encoding", "identity").strip().lower()
        if reply.status_code != HTTP_OK or coding not in ("", "identity"):
            raise Refused(f"answered {reply.status_code} with content-encoding {coding!r}")
        body = bytearray()
        for chunk in reply.iter_raw():  # raw: nothing is decompressed
            body += chunk
            if len(body) > limit or time.monotonic() > deadline:
                raise Refused(f"answered more than {limit} bytes, or too slowly")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Refused("answered something that is not JSON") from exc


@dataclass(frozen=True)
class ServerError:
    """One exception the app raised, as the probe records it."""

    summary: str
    file: str | None
    line: int | None


def _error(entry: object) -> ServerError | None:
    """An entry of the probe's list, when it has exactly the types the probe writes."""
    if not isinstance(entry, dict):
        return None
    summary, file, line = entry.get("summary"), entry.get("file"), entry.get("line")
    if not isinstance(summary, str) or not isinstance(file, str | None):
        return None
    if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
        return None
    return ServerError(summary, file, line)


def server_errors(answer: object) -> list[ServerError]:
    """The well-formed entries of the probe's answer; anything else counts as nothing."""
    if not isinstance(answer, list):
        return []
    return [error for entry in answer if (error := _error(entry)) is not None]
