"""Reads every row into a list first, then streams them one by one with csv.writer."""

import csv
import io

from fastapi import FastAPI
from fastapi.responses import Response, StreamingResponse

app = FastAPI()


def rows():
    yield ("id", "customer", "city", "notes")
    yield (1, "Dupont, Marie", "Zürich", "paid by card")


def csv_lines(all_rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in all_rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


@app.get("/export.csv")
def export_csv():
    all_rows = list(rows())
    return StreamingResponse(csv_lines(all_rows), media_type="text/csv")
