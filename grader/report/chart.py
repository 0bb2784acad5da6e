"""The timeline of one exercise, drawn: when each chunk arrived and, for exercise 3, when the
grader released each token; for exercise 5, when each of its connections opened.

``timeline_png`` draws it with matplotlib (Agg, no display needed, imported only
when a chart is drawn); ``sparkline`` writes the same rows as text, for places
that show no images.
"""

from __future__ import annotations

import io

from grader.results import ExerciseResult

WIDTH_INCHES, ROW_INCHES, DPI = 6.4, 0.42, 90
LABEL_INCHES, AXIS_INCHES, MARGIN_INCHES = 1.45, 0.7, 0.12  # room for labels and the x axis
RECEIVED, RELEASED, OPENED = "chunks received", "tokens released", "connections"
RECEIVED_COLOR, RELEASED_COLOR, OPENED_COLOR = "#1f6fb2", "#c0392b", "#7f8c8d"
COLORS = {RELEASED: RELEASED_COLOR, OPENED: OPENED_COLOR}
SPARK_WIDTH = 48
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
SPARK_EMPTY = "·"


def rows(result: ExerciseResult) -> list[tuple[str, list[float]]]:
    """The chart's rows, top to bottom: label and times in seconds from the request."""
    found = [(RECEIVED, [chunk.t for chunk in result.timeline])]
    if result.released:
        found.append((RELEASED, list(result.released)))
    if result.reconnects:  # the first connection opened at 0, the others later
        found.append((OPENED, [0.0, *result.reconnects]))
    return [(label, times) for label, times in found if times]


def timeline_png(result: ExerciseResult) -> bytes | None:
    """The timeline as a small PNG; None when nothing arrived."""
    drawn = rows(result)
    if not drawn:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = AXIS_INCHES + ROW_INCHES * len(drawn)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for y, (label, times) in enumerate(reversed(drawn)):
        color = COLORS.get(label, RECEIVED_COLOR)
        milliseconds = [t * 1000 for t in times]
        axes.vlines(milliseconds, y - 0.3, y + 0.3, colors=color, linewidth=2)
    axes.set_yticks(range(len(drawn)), [label for label, _ in reversed(drawn)])
    axes.set_ylim(-0.6, len(drawn) - 0.4)
    axes.set_xlim(left=0, right=max(1.0, _end(drawn) * 1000 * 1.04))
    axes.set_xlabel("ms after the request")
    axes.grid(axis="x", alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    # Fixed margins: tight_layout would cost a third of the drawing.
    figure.subplots_adjust(
        left=LABEL_INCHES / WIDTH_INCHES,
        right=1 - MARGIN_INCHES / WIDTH_INCHES,
        bottom=(AXIS_INCHES - MARGIN_INCHES) / height,
        top=1 - MARGIN_INCHES / height,
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _end(drawn: list[tuple[str, list[float]]]) -> float:
    """The last time on any row, in seconds."""
    return max(max(times) for _, times in drawn)


def sparkline(result: ExerciseResult, width: int = SPARK_WIDTH) -> list[str]:
    """The rows as text: one column per time slice, taller for more arrivals in it."""
    drawn = rows(result)
    if not drawn:
        return []
    end = max(_end(drawn), 1e-3)
    label_width = max(len(label) for label, _ in drawn)
    lines = []
    for label, times in drawn:
        bins = [0] * width
        for t in times:
            bins[min(width - 1, int(t / end * width))] += 1
        peak = max(bins)
        marks = "".join(_mark(count, peak) for count in bins)
        lines.append(f"{label:>{label_width}} |{marks}|")
    lines.append(f"{'':>{label_width}}  0 ms{f'{end * 1000:.0f} ms':>{width - 4}}")
    return lines


def _mark(count: int, peak: int) -> str:
    """One column of a sparkline."""
    if not count:
        return SPARK_EMPTY
    return SPARK_LEVELS[(count * (len(SPARK_LEVELS) - 1)) // peak]
