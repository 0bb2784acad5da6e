"""The per-chunk table of what the client received, shown when a streaming check fails."""

from __future__ import annotations

import codecs

from grader.results import Chunk, Omitted

MAX_ROWS = 20
PREVIEW_CHARS = 40
MAX_UTF8_BYTES = 4  # the most bytes one character takes in UTF-8
HEADER = f"{'#':>4}  {'t (ms)':>9}  {'bytes':>7}  data"


def preview(data: bytes) -> str:
    """A repr of the chunk's start: its text when it is UTF-8, else its bytes.

    A chunk that is not whole UTF-8 (a character split across chunks, say) is shown
    as bytes, since that is exactly what the client got.
    """
    head = data[: PREVIEW_CHARS * MAX_UTF8_BYTES]
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=head == data)
    except UnicodeDecodeError:
        shown, size = repr(data[:PREVIEW_CHARS]), min(len(data), PREVIEW_CHARS)
    else:
        shown, size = repr(text[:PREVIEW_CHARS]), len(text[:PREVIEW_CHARS].encode())
    hidden = len(data) - size
    return f"{shown} ...(+{hidden} bytes)" if hidden > 0 else shown


def row(number: int, chunk: Chunk) -> str:
    """One table row: chunk number, arrival time in milliseconds, size and content."""
    return f"{number:>4}  {chunk.t * 1000:>9.1f}  {len(chunk.data):>7}  {preview(chunk.data)}"


def timeline_table(chunks: list[Chunk], omitted: Omitted | None = None) -> list[str]:
    """The table's lines, header first; the chunks past MAX_ROWS are summed up in one line.

    ``omitted`` counts the chunks the result did not keep, which come after ``chunks``.
    """
    lines = [HEADER, *(row(n, c) for n, c in enumerate(chunks[:MAX_ROWS], start=1))]
    rest = (omitted or Omitted()).plus(chunks[MAX_ROWS:])
    if rest.chunks:
        lines.append(
            f"   ... and {rest.chunks:,} more chunks, {rest.bytes:,} bytes, "
            f"the last at {rest.last_t * 1000:.1f} ms"
        )
    return lines
