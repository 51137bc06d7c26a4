"""Built-in augmentations: random shifts, rotations, scalings, elastic distortion and stroke thickness.

Each sample gets its own random draw, every epoch anew. The geometric ones are warps (see
:mod:`netkit.training.augmentation`): a chain of them resamples each image once. Simard, Steinkraus and Platt (2003)
showed that such distortions of MNIST's training digits lower the test error of plain MLPs.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import attrs
import numpy as np

from netkit.training.augmentation import AffineWarp, Matrices, Warp, identity_matrices
from netkit.types import Config, FloatArray


def _non_negative(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{attribute.name} must be a number >= 0. Received: {attribute.name}={value!r}")


def _below_one(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and 0 <= value < 1):
        raise ValueError(f"{attribute.name} must be in [0, 1). Received: {attribute.name}={value!r}")


def _at_least_two(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ValueError(f"{attribute.name} must be a whole number >= 2. Received: {attribute.name}={value!r}")


class _Configured:
    """``get_config`` is every field; ``from_config`` the constructor."""

    def get_config(self) -> Config:
        return attrs.asdict(self)  # type: ignore[arg-type]

    @classmethod
    def from_config(cls, config: Config) -> Any:
        return cls(**config)


@attrs.define
class Shift(_Configured, AffineWarp):
    """Moves each image by up to ``pixels`` (2) in each direction, uniformly at random (fractions included)."""

    pixels: float = attrs.field(default=2.0, converter=float, validator=_non_negative)

    def matrices(self, count: int, rng: np.random.Generator) -> Matrices:
        matrices = identity_matrices(count)
        # Reading from p - d moves the picture by +d.
        matrices[:, :, 2] = rng.uniform(-self.pixels, self.pixels, (count, 2))
        return matrices


@attrs.define
class Rotate(_Configured, AffineWarp):
    """Turns each image about its centre by up to ``degrees`` (10) either way, uniformly at random."""

    degrees: float = attrs.field(default=10.0, converter=float, validator=_non_negative)

    def matrices(self, count: int, rng: np.random.Generator) -> Matrices:
        angle = np.radians(rng.uniform(-self.degrees, self.degrees, count))
        cos, sin = np.cos(angle), np.sin(angle)
        matrices = identity_matrices(count)
        matrices[:, 0, 0], matrices[:, 0, 1] = cos, -sin
        matrices[:, 1, 0], matrices[:, 1, 1] = sin, cos
        return matrices


@attrs.define
class Scale(_Configured, AffineWarp):
    """Zooms each image about its centre by a factor in [1 - ``amount``, 1 + ``amount``] (0.1), uniformly."""

    amount: float = attrs.field(default=0.1, converter=float, validator=_below_one)

    def matrices(self, count: int, rng: np.random.Generator) -> Matrices:
        factor = rng.uniform(1 - self.amount, 1 + self.amount, count)
        matrices = identity_matrices(count)
        matrices[:, 0, 0] = matrices[:, 1, 1] = 1 / factor  # reading from p / s enlarges by s
        return matrices


@functools.cache
def _upsampling(knots: int, side: int) -> FloatArray:
    """(side, knots) linear-interpolation weights from ``knots`` evenly spaced points to ``side`` pixels."""
    position = np.linspace(0, knots - 1, side)
    lower = np.minimum(position.astype(int), knots - 2)
    weights = np.zeros((side, knots), dtype=np.float32)
    weights[np.arange(side), lower] = 1 - (position - lower)
    weights[np.arange(side), lower + 1] = position - lower
    return weights


@attrs.define
class Elastic(_Configured, Warp):
    """Smooth random distortion: each pixel moves by a displacement interpolated from a coarse random grid.

    Options: ``pixels`` (1.5), the standard deviation of the displacement at the grid's points, and ``grid``
    (4) points per side. A coarse grid interpolated linearly stands in for Simard et al.'s Gaussian-smoothed
    per-pixel field: both give smooth, local warps, and this one is two small matrix products per batch.
    """

    pixels: float = attrs.field(default=1.5, converter=float, validator=_non_negative)
    grid: int = attrs.field(default=4, validator=_at_least_two)

    def warp(self, rows: FloatArray, cols: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        count, pixels = rows.shape
        side = math.isqrt(pixels)
        weights = _upsampling(self.grid, side)
        knots = rng.standard_normal((2, count, self.grid, self.grid)).astype(np.float32) * self.pixels
        # weights @ knots @ weights.T per sample and direction: the displacement of every pixel.
        field = np.matmul(np.matmul(weights, knots), weights.T).reshape(2, count, pixels)
        return rows + field[0], cols + field[1]


@attrs.define
class Thicken(_Configured):
    """Makes strokes thicker (or thinner) at random: each image is blended with its 3x3 maximum (or minimum).

    ``amount`` (0.5, below 1) is the largest blend either way; thicker and thinner are equally likely.
    """

    amount: float = attrs.field(default=0.5, converter=float, validator=_below_one)

    def apply(self, images: FloatArray, rng: np.random.Generator) -> FloatArray:
        count = images.shape[0]
        grown, shrunk = _neighbourhood(images, np.maximum), _neighbourhood(images, np.minimum)
        blend = rng.uniform(-self.amount, self.amount, (count, 1, 1)).astype(np.float32)
        target = np.where(blend > 0, grown, shrunk)
        return images + np.abs(blend) * (target - images)


def _neighbourhood(images: FloatArray, pick: np.ufunc) -> FloatArray:
    """The 3x3 maximum (or minimum) around each pixel, as a row pass then a column pass; the border repeats."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    rows: FloatArray = pick(pick(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])
    result: FloatArray = pick(pick(rows[:, :, :-2], rows[:, :, 1:-1]), rows[:, :, 2:])
    return result
