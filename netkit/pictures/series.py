"""Turning a history into points to draw: bucket means of a long series, and a few even ticks on an axis.

Shared by the terminal charts (``netkit.cli``) and the picture files, so both show the same curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from netkit.training.trainer import EpochRecord


def bucket_means(values: np.ndarray[Any, Any] | Sequence[float], buckets: int) -> np.ndarray[Any, Any]:
    """``values`` cut into ``buckets`` consecutive, nearly equal runs, each replaced by its mean.

    Means rather than samples, so a noisy per-iteration loss keeps its trend instead of aliasing. Missing
    (non-finite) values are skipped; a bucket with none left is NaN. Short series come back unchanged.
    """
    data = np.asarray(values, dtype=np.float64)
    if buckets < 1:
        return np.empty(0)
    if data.size <= buckets:
        copy: np.ndarray[Any, Any] = data.copy()
        return copy
    edges = np.linspace(0, data.size, buckets + 1).astype(np.int64)
    finite = np.isfinite(data)
    sums = np.add.reduceat(np.where(finite, data, 0.0), edges[:-1])
    counts = np.add.reduceat(finite.astype(np.int64), edges[:-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        means: np.ndarray[Any, Any] = sums / counts
    return means


def log_ticks(low: float, high: float) -> list[float]:
    """Round values (1, 2 and 5 times a power of ten) between ``low`` and ``high`` for a log axis."""
    if not (low > 0 and high > low):
        return [low] if low > 0 else []
    ticks: list[float] = []
    for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for step in (1.0, 2.0, 5.0):
            value = step * 10.0**power
            if low <= value <= high:
                ticks.append(value)
    if len(ticks) > 8:  # a wide range: keep the powers of ten only
        ticks = [tick for tick in ticks if math.isclose(10 ** round(math.log10(tick)), tick)]
    return ticks


def linear_ticks(low: float, high: float, most: int = 8) -> list[float]:
    """At most ``most`` round values (1, 2 or 5 times a power of ten apart) from ``low`` to ``high``."""
    if not high > low:
        return [low]
    raw = (high - low) / max(most - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(multiple * power for multiple in (1.0, 2.0, 5.0, 10.0) if multiple * power >= raw)
    first = math.ceil(low / step) * step
    count = math.floor((high - first) / step + 1e-9) + 1
    return [first + index * step for index in range(count)]


def lowest_val_loss(records: Sequence[EpochRecord]) -> EpochRecord | None:
    """The epoch with the lowest validation loss (the earliest on ties): where to have stopped."""
    scored = [record for record in records if record.val_loss is not None and math.isfinite(record.val_loss)]
    return min(scored, key=lambda record: (record.val_loss, record.epoch)) if scored else None
