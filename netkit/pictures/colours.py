"""The shared colour scales: one diverging scale for signed values (weights), one ramp for activations.

Signed values run blue ``#2166AC`` (negative) through near-white ``#F7F7F7`` (zero) to orange ``#E66101``
(positive), linear in RGB between the stops. Blue against orange is the pair that stays apart for the
common red-green colour blindnesses; :func:`simulate_colour_blindness` (the Machado, Oliveira and Fernandes
2009 matrices at full severity) lets a test prove it. Values are scaled to a high percentile of their
magnitudes rather than the single largest one, so one outlier does not wash every other cell out; the
scale is returned so that every legend can state it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NEGATIVE = (0x21, 0x66, 0xAC)
ZERO = (0xF7, 0xF7, 0xF7)
POSITIVE = (0xE6, 0x61, 0x01)
ACTIVATION_HIGH = (0x08, 0x30, 0x6B)
SCALE_PERCENTILE = 99.0

# Machado et al. (2009), "A physiologically-based model for simulation of color vision deficiency",
# severity 1.0, applied to linear RGB.
MACHADO_2009 = {
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}


def robust_limit(values: np.ndarray[Any, Any], percentile: float = SCALE_PERCENTILE) -> float:
    """The ``percentile`` of ``|values|`` (finite ones): the magnitude that maps to a full colour."""
    magnitudes = np.abs(np.asarray(values, dtype=np.float64))
    magnitudes = magnitudes[np.isfinite(magnitudes)]
    if not magnitudes.size:
        return 0.0
    return float(np.percentile(magnitudes, percentile))


def normalise(values: np.ndarray[Any, Any], limit: float) -> np.ndarray[Any, Any]:
    """``values / limit`` clipped to [-1, 1]; all zeros when the limit is zero; NaN counts as zero."""
    grid = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    if limit <= 0:
        return np.zeros_like(grid)
    return np.clip(grid / limit, -1.0, 1.0)


def diverging_rgb(normalised: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Values in [-1, 1] as uint8 RGB (an extra trailing axis of 3): blue, near-white, orange."""
    t = np.clip(np.asarray(normalised, dtype=np.float64), -1.0, 1.0)[..., None]
    zero, negative, positive = (np.array(stop, dtype=np.float64) for stop in (ZERO, NEGATIVE, POSITIVE))
    colours = np.where(t < 0, zero + (negative - zero) * -t, zero + (positive - zero) * t)
    return np.round(colours).astype(np.uint8)


def activation_rgb(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Values in [0, 1] as uint8 RGB on the single-hue ramp from near-white (0) to dark blue (1)."""
    t = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)[..., None]
    low, high = np.array(ZERO, dtype=np.float64), np.array(ACTIVATION_HIGH, dtype=np.float64)
    return np.round(low + (high - low) * t).astype(np.uint8)


def hex_colour(rgb: tuple[int, int, int] | np.ndarray[Any, Any]) -> str:
    red, green, blue = (int(channel) for channel in rgb)
    return f"#{red:02X}{green:02X}{blue:02X}"


def simulate_colour_blindness(rgb: np.ndarray[Any, Any], kind: str = "deuteranopia") -> np.ndarray[Any, Any]:
    """``rgb`` (uint8, trailing axis 3) as a person with ``kind`` of dichromacy sees it, per Machado 2009."""
    linear = _to_linear(np.asarray(rgb, dtype=np.float64) / 255.0)
    seen = np.clip(linear @ MACHADO_2009[kind].T, 0.0, 1.0)
    return np.round(_to_srgb(seen) * 255.0).astype(np.uint8)


def _to_linear(srgb: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
