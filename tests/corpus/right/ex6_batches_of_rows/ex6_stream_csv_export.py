"""Writes the rows in batches of 32, one chunk per batch, as UTF-8 bytes, as a download."""

import csv
import io

from fastapi import FastAPI
from fastapi.responses import Response, StreamingResponse

app = FastAPI()


def rows():
    yield ("id", "customer", "city", "notes")
    yield (1, "Dupont, Marie", "Zürich", "paid by card")


BATCH = 32


def csv_batches():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for number, row in enumerate(rows(), start=1):
        writer.writerow(row)
        if number % BATCH == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate(0)
    yield buffer.getvalue().encode("utf-8")


@app.get("/export.csv")
def export_csv():
    headers = {"Content-Disposition": "attachment; filename=export.csv"}
    return StreamingResponse(csv_batches(), media_type="text/csv", headers=headers)
