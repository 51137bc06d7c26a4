"""The one conversion from 8-bit pixels to the float32 rows every loader returns, and the check that rows
handed to a model are on that scale."""

from __future__ import annotations

import sys
import warnings
from types import FrameType
from typing import Any

import numpy as np
import numpy.typing as npt

from netkit.errors import InputRangeWarning
from netkit.types import FloatArray

_WHITE = np.float32(255)


def to_unit_interval(pixels: npt.NDArray[np.uint8], out: FloatArray | None = None) -> FloatArray:
    """``pixels / 255`` as float32, written into ``out`` when given (one pass, no temporary)."""
    if out is None:
        out = np.empty(pixels.shape, dtype=np.float32)
    # Division (not a multiply by 1/255) is correctly rounded, so 255 maps to exactly 1.0.
    np.divide(pixels, _WHITE, out=out, dtype=np.float32)
    return out


# Rows looked at to judge the range: a wrong scale (raw 0..255 pixels) shows in every row with ink, and a
# bounded sample keeps the check a small part of a prediction however many rows there are.
RANGE_SAMPLE_ROWS = 32


def unit_range_problem(rows: npt.NDArray[np.floating[Any]]) -> str | None:
    """A one-line warning when ``rows`` (samples first) hold values outside [0, 1], else ``None``."""
    if rows.size == 0:
        return None
    sample = rows[:: max(1, len(rows) // RANGE_SAMPLE_ROWS)]
    lowest, highest = float(sample.min()), float(sample.max())
    if lowest >= 0.0 and highest <= 1.0:
        return None
    advice = "divide 8-bit pixels by 255" if lowest >= 0.0 and highest > 1.0 else "scale them into [0, 1]"
    return (
        f"inputs range over {lowest:.3g}..{highest:.3g}, outside [0, 1]: netkit's datasets give pixels in "
        f"[0, 1] and models learn and answer on that scale; {advice}"
    )


def warn_outside_unit_range(rows: npt.NDArray[np.floating[Any]]) -> None:
    """Raise an :class:`~netkit.errors.InputRangeWarning` when ``rows`` hold values outside [0, 1], naming the
    caller's line outside netkit (``model.predict`` reaches here through ``predict_proba``, ``fit`` through the
    trainer: a fixed stack level would name a line of netkit's own for one of them)."""
    problem = unit_range_problem(rows)
    if problem is not None:
        warnings.warn(problem, InputRangeWarning, stacklevel=_first_level_outside_netkit())


def _first_level_outside_netkit() -> int:
    """The ``stacklevel`` (as seen from :func:`warn_outside_unit_range`) of the nearest caller not in netkit."""
    frame: FrameType | None = sys._getframe(2)
    level = 2  # level 1 is warn_outside_unit_range itself
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "netkit":
        frame, level = frame.f_back, level + 1
    return level
