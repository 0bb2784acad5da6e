"""The per-chunk table of what the client received, shown when a streaming check fails."""

from __future__ import annotations

import codecs
import math
from collections.abc import Sequence

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


def reconnect_line(connection: int, t: float) -> str:
    """The line that marks where a later connection begins."""
    return f"{'':>4}  {t * 1000:>9.1f}  {'':>7}  -- connection {connection} opened"


def row(number: int, chunk: Chunk) -> str:
    """One table row: chunk number, arrival time in milliseconds, size and content."""
    return f"{number:>4}  {chunk.t * 1000:>9.1f}  {len(chunk.data):>7}  {preview(chunk.data)}"


def timeline_table(
    chunks: list[Chunk], omitted: Omitted | None = None, reconnects: Sequence[float] = ()
) -> list[str]:
    """The table's lines, header first; the chunks past MAX_ROWS are summed up in one line.

    ``omitted`` counts the chunks the result did not keep, which come after ``chunks``;
    ``reconnects`` are when later connections opened: a line marks where each one begins.
    """
    shown = chunks[:MAX_ROWS]
    rest = (omitted or Omitted()).plus(chunks[MAX_ROWS:])
    # A connection opened among the chunks left out is not marked among the ones shown.
    last = (shown[-1].t if shown else -math.inf) if rest.chunks else math.inf
    entries = [(chunk.t, 1, row(n, chunk)) for n, chunk in enumerate(shown, start=1)]
    opened = [0.0, *sorted(reconnects)] if reconnects else []  # the first one opened at 0
    entries += [(t, 0, reconnect_line(n, t)) for n, t in enumerate(opened, start=1) if t <= last]
    lines = [HEADER, *(line for _, _, line in sorted(entries, key=lambda entry: entry[:2]))]
    if rest.chunks:
        lines.append(
            f"   ... and {rest.chunks:,} more chunks, {rest.bytes:,} bytes, "
            f"the last at {rest.last_t * 1000:.1f} ms"
        )
    return lines
