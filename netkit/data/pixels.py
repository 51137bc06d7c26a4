"""The one conversion from 8-bit pixels to the float32 rows every loader returns."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from netkit.types import FloatArray

_WHITE = np.float32(255)


def to_unit_interval(pixels: npt.NDArray[np.uint8], out: FloatArray | None = None) -> FloatArray:
    """``pixels / 255`` as float32, written into ``out`` when given (one pass, no temporary)."""
    if out is None:
        out = np.empty(pixels.shape, dtype=np.float32)
    # Division (not a multiply by 1/255) is correctly rounded, so 255 maps to exactly 1.0.
    np.divide(pixels, _WHITE, out=out, dtype=np.float32)
    return out
