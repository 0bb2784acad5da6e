"""Exercise 6, reference solution: stream a CSV export one row at a time."""

import csv
import io

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


def rows():
    """The export's rows, header first; the grader puts a far bigger source in its place."""
    yield ("id", "customer", "city", "notes")
    yield (1, "Dupont, Marie", "Zürich", "paid by card")
    yield (2, 'Ana "Nan" Kim', "Montréal", "gift wrap, call first")
    yield (3, "Søren Åberg", "Malmö", "left at door\nsigned")


def csv_lines():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows():
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


@app.get("/export.csv")
def export_csv():
    return StreamingResponse(csv_lines(), media_type="text/csv")
