"""Exercise 1, correct, but importing it creates a System V shared-memory segment.

Nothing removes the segment: without an IPC namespace of its own, it would
outlive the sandbox, and the batch, holding its memory until the next reboot.
"""

import ctypes

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

KEY = 0x55E5E001  # the test looks for this key once the batch is over
IPC_CREAT = 0o1000
SIZE = 16 << 20

libc = ctypes.CDLL(None, use_errno=True)
segment = libc.shmget(KEY, SIZE, IPC_CREAT | 0o666)
if segment < 0:
    raise RuntimeError(f"shmget failed: errno {ctypes.get_errno()}")
libc.shmat.restype = ctypes.c_void_p
address = libc.shmat(segment, None, 0)
if address not in (None, ctypes.c_void_p(-1).value):
    ctypes.memset(address, 0xFF, SIZE)


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")

