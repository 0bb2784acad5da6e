"""Streams the rows one at a time, but at /export instead of /export.csv."""

import csv
import io

from fastapi import FastAPI
from fastapi.responses import Response, StreamingResponse

app = FastAPI()


def rows():
    yield ("id", "customer", "city", "notes")
    yield (1, "Dupont, Marie", "Zürich", "paid by card")


async def csv_lines():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows():
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


@app.get("/export")
async def export_csv():
    return StreamingResponse(csv_lines(), media_type="text/csv")
