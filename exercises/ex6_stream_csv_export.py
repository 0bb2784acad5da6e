"""Exercise 6 (challenge): export without holding it.

GET /export.csv sends, as text/csv, every row that `rows()` yields (the header
row first) written by the csv module's default writer, in UTF-8. A real export
has hundreds of MiB of rows, made as they are read from a database. The
endpoint below writes them all into one buffer and only then answers: the
server holds the whole export in memory, and with a big enough one it runs out.

TODO: stream it. Hand StreamingResponse a generator that writes a row (or a
small batch of rows) with csv.writer and yields that text before it writes the
next, so the server holds a row at a time, whatever the size of the export.
"""

import csv
import io

from fastapi import FastAPI
from fastapi.responses import Response

app = FastAPI()


def rows():
    """The export's rows, header first; the grader puts a far bigger source in its place."""
    yield ("id", "customer", "city", "notes")
    yield (1, "Dupont, Marie", "Zürich", "paid by card")
    yield (2, 'Ana "Nan" Kim', "Montréal", "gift wrap, call first")
    yield (3, "Søren Åberg", "Malmö", "left at door\nsigned")


@app.get("/export.csv")
def export_csv():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows():
        writer.writerow(row)
    return Response(buffer.getvalue(), media_type="text/csv")
