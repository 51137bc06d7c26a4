"""Line charts in the terminal, drawn with braille dots: 2x4 dots a character, with labelled axes.

Written here rather than taken from a plotting library: a chart is a boolean dot grid per series turned
into braille code points in a few NumPy operations, so a redraw costs well under a millisecond and fits
rich's ``Text`` directly (``bench/README.md`` has the measured comparison with plotext).

A series is given as one y value per dot column (NaN: nothing there); the caller buckets or interpolates
its data to that width (:func:`columns_from_points`). A dashed series leaves every third pair of dot
columns out, so two series are told apart without colour.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
from rich.text import Text

BRAILLE_BASE = 0x2800
# Bit of each dot in a braille cell, by (row, column) inside the 4x2 cell.
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int64)
AXIS_STYLE = "bright_black"
MARK = "▲"


@attrs.frozen
class Series:
    """One line: ``columns`` holds a y value per dot column (NaN where there is none)."""

    label: str
    columns: np.ndarray[Any, Any]
    style: str
    dashed: bool = False


@attrs.frozen
class Mark:
    """A point on the x axis worth pointing at, e.g. the best epoch: the dot column it sits at."""

    column: int
    style: str = "bold"


def columns_from_points(x: Sequence[float], y: Sequence[float | None], first: float, last: float, dots: int) -> Any:
    """Points (x ascending) as one y value per dot column over [first, last], joined by straight lines."""
    values = np.asarray([math.nan if value is None else value for value in y], dtype=np.float64)
    positions = np.asarray(x, dtype=np.float64)
    keep = np.isfinite(values)
    values, positions = values[keep], positions[keep]
    columns = np.full(dots, math.nan)
    if not values.size:
        return columns
    span = last - first
    where = np.round((positions - first) / span * (dots - 1)).astype(np.int64) if span > 0 else np.zeros(1, np.int64)
    if values.size == 1 or span <= 0:
        columns[int(np.clip(where[-1], 0, dots - 1))] = values[-1]
        return columns
    inside = np.arange(where[0], where[-1] + 1)
    columns[inside] = np.interp(inside, where, values)
    return columns


def _scale(series: Sequence[Series], log: bool) -> tuple[float, float] | None:
    finite = [
        value for line in series for value in line.columns[np.isfinite(line.columns)].tolist() if not log or value > 0
    ]
    if not finite:
        return None
    low, high = min(finite), max(finite)
    if high <= low:  # a flat line sits in the middle of a range around it
        return (low / 1.25, high * 1.25) if log and low > 0 else (low - 1.0, high + 1.0)
    return low, high


def fitted_line(parts: Sequence[tuple[str, str, int]], width: int) -> Text:
    """Parts (text, style, rank) joined in order; while too wide, the lowest-ranked part drops (0: never).

    Parts drop whole, so a number in one is never cut; parts that may not drop and still do not fit start
    a new line.
    """
    kept = list(parts)
    while sum(len(part) for part, _, _ in kept) > width and any(rank for _, _, rank in kept):
        kept.remove(min((part for part in kept if part[2]), key=lambda part: part[2]))
    text = Text(no_wrap=True, overflow="crop")
    used = 0
    for part, style, _ in kept:
        if used and used + len(part) > width:  # what must stay and cannot fit goes on to a new line
            part = part.lstrip(" ·")
            text.append("\n")
            used = 0
        text.append(part, style=style)
        used += len(part)
    text.append("\n")
    return text


def _dot_rows(columns: np.ndarray[Any, Any], low: float, high: float, rows: int, log: bool) -> np.ndarray[Any, Any]:
    """Each column's dot row (0 at the top), or -1 where there is no value."""
    values = np.asarray(columns, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if log:
            values, low, high = np.log(values), math.log(low), math.log(high)
    span = high - low
    position = (high - values) / span * (rows - 1) if span > 0 else np.full(values.shape, rows - 1.0)
    dot = np.where(np.isfinite(position), np.round(np.nan_to_num(position)), -1)
    return np.clip(dot, -1, rows - 1).astype(np.int64)


def _draw(dot_rows: np.ndarray[Any, Any], rows: int, dashed: bool) -> np.ndarray[Any, Any]:
    """A boolean dot grid with each column's dot joined to its neighbour's by a vertical run."""
    grid = np.zeros((rows, dot_rows.size), dtype=bool)
    previous = -1
    for column, row in enumerate(dot_rows.tolist()):
        if row < 0:
            previous = -1
            continue
        if not (dashed and (column // 2) % 3 == 2):
            top, bottom = (min(row, previous), max(row, previous)) if previous >= 0 else (row, row)
            # Half the jump belongs to each column, so steep lines stay one dot wide.
            if previous >= 0 and bottom - top > 1:
                top, bottom = (row, (row + previous) // 2) if row < previous else ((row + previous + 1) // 2, row)
            grid[top : bottom + 1, column] = True
        previous = row
    return grid


def braille(grid: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A (4r, 2c) boolean dot grid as (r, c) braille code points."""
    rows, columns = grid.shape
    cells = grid.reshape(rows // 4, 4, columns // 2, 2)
    codes: np.ndarray[Any, Any] = BRAILLE_BASE + np.einsum("rycx,yx->rc", cells.astype(np.int64), DOT_BITS)
    return codes


def line_chart(
    series: Sequence[Series],
    height: int,
    y_format: Callable[[float], str],
    x_labels: tuple[str, str, str],
    log: bool = True,
    marks: Sequence[Mark] = (),
    ticks: Sequence[int] = (),
    label_width: int | None = None,
) -> Text:
    """``height`` lines of braille (one more for the x axis and one for its labels), y labels at the left.

    The y axis is labelled with its top, middle and bottom values; ``x_labels`` are the left end, the
    name of the axis and the right end. ``ticks`` and ``marks`` are dot columns to mark on the x axis.
    """
    dots = series[0].columns.size if series else 0
    cells = dots // 2
    bounds = _scale(series, log)
    if label_width is None:
        label_width = max(len(y_format(value)) for value in (bounds or (0.0, 0.0)))
    text = Text(no_wrap=True, overflow="crop")
    rows = height * 4
    if bounds is None:
        for _ in range(height):
            text.append(" " * label_width + " │\n", style=AXIS_STYLE)
    else:
        low, high = bounds
        # Each cell takes the style of the last series with a dot in it, so later series stay on top.
        codes = np.full((height, cells), BRAILLE_BASE, dtype=np.int64)
        owner = np.full((height, cells), -1, dtype=np.int64)
        for index, line in enumerate(series):
            grid = _draw(_dot_rows(line.columns, low, high, rows, log), rows, line.dashed)
            line_codes = braille(grid)
            owner[line_codes != BRAILLE_BASE] = index
            codes |= line_codes
        labels = _row_labels(low, high, height, log, y_format)
        for row in range(height):
            label = labels.get(row)
            text.append((label or "").rjust(label_width) + (" ┤" if label else " │"), style=AXIS_STYLE)
            _append_cells(text, codes[row], owner[row], series)
            text.append("\n")
    text.append(" " * label_width + " └", style=AXIS_STYLE)
    _x_axis(text, cells, marks, ticks)
    text.append("\n")
    text.append(_x_labels(label_width + 2, cells, x_labels), style=AXIS_STYLE)
    return text


def _append_cells(
    text: Text, codes: np.ndarray[Any, Any], owner: np.ndarray[Any, Any], series: Sequence[Series]
) -> None:
    # An empty cell is a plain space (not the blank braille pattern), so copied charts paste cleanly; it
    # joins the run before it, so a line is a few styled runs rather than one per stretch of dots.
    characters = "".join(chr(code) if code != BRAILLE_BASE else " " for code in codes.tolist())
    owners = owner.tolist()
    runs: list[tuple[int, int]] = []  # (start, owner) of each run
    for index, current in enumerate(owners):
        if current < 0 or (runs and runs[-1][1] == current):
            continue
        if not runs:
            runs.append((0, current))
        else:
            runs.append((index, current))
    if not runs:
        text.append(characters)
        return
    for (start, current), (end, _) in zip(runs, [*runs[1:], (len(owners), -1)], strict=True):
        text.append(characters[start:end], style=series[current].style)


def _row_labels(low: float, high: float, height: int, log: bool, y_format: Callable[[float], str]) -> dict[int, str]:
    """Labels for the top, bottom and (when there is room) middle line: the value at each line's centre."""
    if height == 1 or high <= low:
        return {0: y_format(high)}
    rows = height * 4
    chosen = [0, height - 1] + ([(height - 1) // 2] if height >= 5 else [])
    labels = {}
    for line in chosen:
        fraction = min((line * 4 + 1.5) / (rows - 1), 1.0) if 0 < line < height - 1 else float(line > 0)
        if log and low > 0:
            value = math.exp(math.log(high) - fraction * (math.log(high) - math.log(low)))
        else:
            value = high - fraction * (high - low)
        labels[line] = y_format(value)
    return labels


def _x_axis(text: Text, cells: int, marks: Sequence[Mark], ticks: Sequence[int]) -> None:
    axis = ["─"] * cells
    for column in ticks:
        if 0 <= column // 2 < cells:
            axis[column // 2] = "┴"
    styles = {}
    for mark in marks:
        if 0 <= mark.column // 2 < cells:
            axis[mark.column // 2] = MARK
            styles[mark.column // 2] = mark.style
    start = 0
    for cell in sorted(styles):
        text.append("".join(axis[start:cell]), style=AXIS_STYLE)
        text.append(MARK, style=styles[cell])
        start = cell + 1
    text.append("".join(axis[start:]), style=AXIS_STYLE)


def _x_labels(indent: int, cells: int, labels: tuple[str, str, str]) -> str:
    left, name, right = labels
    room = cells - len(left) - len(right)
    middle = name.center(room) if room >= len(name) + 2 else " " * max(room, 1)
    return " " * indent + left + middle + right
