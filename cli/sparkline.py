"""Sparklines: a series of numbers drawn as one line of block characters, ``▁▂▃▄▅▆▇█``.

Pure functions, no rich: the live view, ``inspect`` and the tests all call them the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

BLOCKS = "▁▂▃▄▅▆▇█"
GAP = " "  # drawn for a missing value (None or NaN)


def downsample(values: Sequence[float | None], width: int) -> list[float]:
    """At most ``width`` points: the mean of consecutive, nearly equal buckets (missing values skipped).

    Means rather than samples, so a noisy per-iteration loss keeps its trend instead of aliasing.
    """
    if width < 1:
        return []
    data = np.asarray(values, dtype=np.float64)  # None becomes NaN
    if data.size <= width:
        return [float(value) for value in data]
    edges = np.linspace(0, data.size, width + 1).astype(np.int64)
    finite = np.isfinite(data)
    sums = np.add.reduceat(np.where(finite, data, 0.0), edges[:-1])
    counts = np.add.reduceat(finite.astype(np.int64), edges[:-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return [float(value) for value in sums / counts]


def sparkline(
    values: Sequence[float | None],
    width: int | None = None,
    low: float | None = None,
    high: float | None = None,
    log: bool = False,
    repeat: int = 1,
) -> str:
    """``values`` as block characters, scaled so ``low`` is ``▁`` and ``high`` is ``█``.

    ``low``/``high`` default to the finite minimum and maximum, so two series drawn with the same bounds
    (train and validation loss) can be compared by eye. With ``width``, longer series are downsampled.
    ``log`` scales logarithmically (non-positive values count as missing): a loss that keeps falling by
    ever smaller steps stays visible. ``repeat`` draws each point that many characters wide.
    A flat series sits on the lowest block; missing values are spaces.
    """
    points = downsample(values, width) if width is not None else [_as_float(value) for value in values]
    if log:
        points = [math.log(value) if value > 0 else math.nan for value in points]
        low = math.log(low) if low is not None and low > 0 else None
        high = math.log(high) if high is not None and high > 0 else None
    finite = [value for value in points if math.isfinite(value)]
    if not finite:
        return GAP * len(points)
    low = min(finite) if low is None else low
    high = max(finite) if high is None else high
    span = high - low
    top = len(BLOCKS) - 1
    characters = []
    for value in points:
        if not math.isfinite(value):
            characters.append(GAP)
        elif span <= 0:
            characters.append(BLOCKS[0])
        else:
            level = round((value - low) / span * top)
            characters.append(BLOCKS[min(max(level, 0), top)])
    return "".join(character * repeat for character in characters)


def bounds(*series: Sequence[float | None]) -> tuple[float | None, float | None]:
    """The finite minimum and maximum over several series (``None`` when there is none)."""
    finite = [value for values in series for value in values if value is not None and math.isfinite(value)]
    if not finite:
        return None, None
    return min(finite), max(finite)


def _as_float(value: float | None) -> float:
    return math.nan if value is None else float(value)
