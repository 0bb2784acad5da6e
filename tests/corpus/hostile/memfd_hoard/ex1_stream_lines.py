"""Exercise 1, correct, but importing it hoards 600 MiB in memfds it never maps.

Each memfd stays under the output limit on file sizes, and none is mapped, so
no per-process limit on address space sees them. The endpoint is served only
if the whole hoard was allocated.
"""

import os
import resource

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

PIECES = 600
PIECE = (1 << 20) - 4096

_, most = resource.getrlimit(resource.RLIMIT_NOFILE)
wanted = PIECES + 64 if most == resource.RLIM_INFINITY else min(most, PIECES + 64)
resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, most))
hoard = []
try:
    for _ in range(PIECES):
        fd = os.memfd_create("hoard")
        hoard.append(fd)
        os.posix_fallocate(fd, 0, PIECE)
except OSError as exc:
    raise RuntimeError(f"memfd hoard stopped after {len(hoard)} MiB: {exc}") from None


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")

