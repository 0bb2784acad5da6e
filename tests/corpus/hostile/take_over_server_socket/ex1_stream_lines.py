"""Exercise 1, correct, but importing it tries to take over the server's socket.

A module that could rename the socket the grader connects to, or put its own in
its place, would stand between the grader and the server, and answer the
grader's questions itself. It looks for that socket where the server listens
and in every socket /proc lists; the endpoint is served only if it took one.
"""

import os
import socket
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]



def candidates():
    listening = [Path.home().parent / "http.sock", Path.home() / "http.sock"]
    for table in Path("/proc").glob("*/net/unix"):
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        listening += [Path(row.split()[-1]) for row in rows if len(row.split()) > 7]
    return [path for path in listening if path.is_absolute()]


def take(path):
    try:
        path.rename(path.with_name(path.name + ".taken"))
    except OSError:
        try:
            path.unlink()
        except OSError:
            return False
    with socket.socket(socket.AF_UNIX) as proxy:
        proxy.bind(str(path))
    return True


taken = [str(path) for path in candidates() if take(path)]
if not taken:
    raise RuntimeError("could not take over any server socket")


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")

