"""The shared colour scale: its stops, its robust scaling, and a colour-blindness check."""

from __future__ import annotations

import numpy as np
import pytest

from netkit.pictures.colours import (
    activation_rgb,
    diverging_rgb,
    hex_colour,
    normalise,
    robust_limit,
    simulate_colour_blindness,
)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (uint8) to CIE L*a*b* (D65), for colour differences as people perceive them."""
    srgb = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def _delta_e(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.linalg.norm(_lab(first) - _lab(second), axis=-1)


def test_the_stops_are_the_shared_scale() -> None:
    assert [hex_colour(c) for c in diverging_rgb(np.array([-1.0, 0.0, 1.0]))] == ["#2166AC", "#F7F7F7", "#E66101"]
    assert [hex_colour(c) for c in activation_rgb(np.array([0.0, 1.0]))] == ["#F7F7F7", "#08306B"]


def test_scale_is_linear_in_rgb_between_stops() -> None:
    half = diverging_rgb(np.array(0.5)).astype(float)
    assert np.allclose(half, (np.array([0xF7] * 3) + np.array([0xE6, 0x61, 0x01])) / 2, atol=0.5)


@pytest.mark.parametrize("kind", ["deuteranopia", "protanopia", "tritanopia"])
def test_the_two_ends_stay_distinguishable_under_colour_blindness(kind: str) -> None:
    # Machado et al. 2009 at full severity; CIE76 ΔE above 40 is "clearly different colours".
    ends = diverging_rgb(np.array([-1.0, 1.0]))
    seen = simulate_colour_blindness(ends, kind)
    assert _delta_e(seen[0], seen[1]) > 40


def test_a_red_green_scale_would_fail_the_same_check() -> None:
    # The check can fail: netkit's old red/green heat map collapses under deuteranopia.
    seen = simulate_colour_blindness(np.array([[200, 0, 0], [0, 160, 0]], dtype=np.uint8), "deuteranopia")
    assert _delta_e(seen[0], seen[1]) < 15


def test_negative_and_positive_of_every_size_stay_apart_under_deuteranopia() -> None:
    sizes = np.linspace(0.25, 1.0, 4)
    negative = simulate_colour_blindness(diverging_rgb(-sizes))
    positive = simulate_colour_blindness(diverging_rgb(sizes))
    assert (_delta_e(negative, positive) > 15).all()


def test_robust_limit_ignores_a_single_outlier_and_non_finite_values() -> None:
    values = np.concatenate([np.linspace(-1, 1, 999), [1000.0, np.nan, np.inf]])
    assert 0.9 < robust_limit(values) < 1.1
    assert robust_limit(np.array([])) == 0.0


def test_normalise_clips_and_survives_a_zero_limit() -> None:
    assert normalise(np.array([-3.0, 0.5, 3.0]), 1.0).tolist() == [-1.0, 0.5, 1.0]
    assert normalise(np.array([1.0, np.nan]), 0.0).tolist() == [0.0, 0.0]
