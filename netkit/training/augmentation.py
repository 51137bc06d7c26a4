"""Data augmentation: random transforms of training images, drawn afresh for every sample of every epoch.

An augmentation plugin (group ``netkit.augmentations``) is one of two kinds:

- a :class:`Warp` moves pixels: ``warp(rows, cols, rng)`` says, for each output pixel, where in the input image
  to read from (centred pixel coordinates). An :class:`AffineWarp` gives that mapping as one 2x3 matrix per
  sample instead (shift, rotation, scaling), so a chain of them costs one matrix product.
- anything else changes pixel values: ``apply(images, rng)`` returns new (n, height, width) images.

:class:`Augmenter` chains plugins in the order given: consecutive warps are composed first and the images are
resampled once (bilinear, zero outside the image), so ``shift,rotate,scale`` blurs no more than one of them.
The batch source (:mod:`netkit.training.batching`) calls it on each gathered piece of shuffled training rows; validation
and test images are never augmented.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from netkit.errors import ConfigError
from netkit.types import FloatArray

BLOCK_ROWS = 256
Matrices = FloatArray  # (n, 2, 3): source = M[:, :, :2] @ output + M[:, :, 2], in centred (row, col) pixels


@runtime_checkable
class Augmentation(Protocol):
    """Changes the pixel values of a batch of (n, height, width) images; returns a new array."""

    def apply(self, images: FloatArray, rng: np.random.Generator) -> FloatArray: ...

    def get_config(self) -> dict[str, Any]: ...


class Warp:
    """Base for augmentations that move pixels. Subclasses implement :meth:`warp`.

    ``rows`` and ``cols`` are (n, pixels) coordinates of output pixels relative to the image centre; the
    result says where each one reads from in the input image.
    """

    def warp(self, rows: FloatArray, cols: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError

    def apply(self, images: FloatArray, rng: np.random.Generator) -> FloatArray:
        """The warp on its own: one resample."""
        rows, cols = centred_grid(images.shape[1], images.shape[2], images.shape[0])
        return resample(images, *self.warp(rows, cols, rng))


class AffineWarp(Warp):
    """Base for affine warps. Subclasses implement :meth:`matrices` (one 2x3 matrix per sample)."""

    def matrices(self, count: int, rng: np.random.Generator) -> Matrices:
        raise NotImplementedError

    def warp(self, rows: FloatArray, cols: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        return apply_affine(self.matrices(rows.shape[0], rng), rows, cols)


def identity_matrices(count: int) -> Matrices:
    matrices = np.zeros((count, 2, 3), dtype=np.float32)
    matrices[:, 0, 0] = matrices[:, 1, 1] = 1.0
    return matrices


def compose(first: Matrices, then: Matrices) -> Matrices:
    """The source mapping of "transform by ``first``, then by ``then``": ``first``'s map after ``then``'s."""
    linear = np.matmul(first[:, :, :2], then[:, :, :2])
    offset = np.matmul(first[:, :, :2], then[:, :, 2:]) + first[:, :, 2:]
    return np.concatenate([linear, offset], axis=2)


def apply_affine(matrices: Matrices, rows: FloatArray, cols: FloatArray) -> tuple[FloatArray, FloatArray]:
    m = matrices.astype(np.float32)[:, :, :, None]  # broadcast each sample's numbers over its pixels
    new_rows = m[:, 0, 0] * rows
    new_rows += m[:, 0, 1] * cols
    new_rows += m[:, 0, 2]
    new_cols = m[:, 1, 0] * rows
    new_cols += m[:, 1, 1] * cols
    new_cols += m[:, 1, 2]
    return new_rows, new_cols


def centred_grid(height: int, width: int, count: int) -> tuple[FloatArray, FloatArray]:
    """Each output pixel's (row, col) relative to the image centre, as (count, pixels) arrays (broadcast)."""
    rows, cols = np.meshgrid(
        np.arange(height, dtype=np.float32) - (height - 1) / 2,
        np.arange(width, dtype=np.float32) - (width - 1) / 2,
        indexing="ij",
    )
    shape = (count, height * width)
    return np.broadcast_to(rows.reshape(1, -1), shape), np.broadcast_to(cols.reshape(1, -1), shape)


def resample(images: FloatArray, rows: FloatArray, cols: FloatArray) -> FloatArray:
    """Bilinear reads of ``images`` (n, h, w) at centred coordinates (n, h*w); zero outside the image.

    Everything stays float32 and is written in place where it can: this runs on every training image.
    """
    count, height, width = images.shape
    stride = width + 2
    # A zero border of one pixel: every read outside the image lands on it (coordinates are clipped to it).
    padded = np.zeros((count, height + 2, stride), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images
    row = np.add(rows, np.float32((height - 1) / 2 + 1), dtype=np.float32)
    col = np.add(cols, np.float32((width - 1) / 2 + 1), dtype=np.float32)
    # Just inside the far border, so that the pixel after the floor is still in the padded image.
    np.clip(row, 0, np.float32(height + 0.999), out=row)
    np.clip(col, 0, np.float32(width + 0.999), out=col)
    row_floor, col_floor = np.floor(row), np.floor(col)
    row -= row_floor  # from here on, the fractions
    col -= col_floor
    row_floor *= stride
    row_floor += col_floor
    index = row_floor.astype(np.intp)
    index += (np.arange(count, dtype=np.intp) * ((height + 2) * stride))[:, None]
    flat = padded.reshape(-1)
    top = flat.take(index)
    index += 1
    right = flat.take(index)
    right -= top
    right *= col
    top += right
    index += stride
    bottom_right = flat.take(index)
    index -= 1
    bottom = flat.take(index)
    bottom_right -= bottom
    bottom_right *= col
    bottom += bottom_right
    bottom -= top
    bottom *= row
    top += bottom
    result: FloatArray = top.reshape(count, height, width)
    return result


def image_side(features: int) -> int:
    """The side of the square images that rows of ``features`` pixels hold, or a clear error."""
    side = math.isqrt(features)
    if side * side != features:
        raise ConfigError(f"augmentation needs square images; rows of {features} values are not a square")
    return side


class Augmenter:
    """A chain of augmentation plugins applied to flat image rows (n, h*w) of square images."""

    def __init__(self, steps: Sequence[Any]) -> None:
        for step in steps:
            if not (isinstance(step, Warp) or callable(getattr(step, "apply", None))):
                raise ConfigError(f"{type(step).__name__} is not an augmentation: it needs warp() or apply()")
        self.steps = list(steps)

    def __call__(self, flat_images: FloatArray, rng: np.random.Generator, out: FloatArray | None = None) -> FloatArray:
        """``flat_images`` transformed; written into ``out`` (same shape) when given."""
        count, features = flat_images.shape
        side = image_side(features)
        if out is None:
            out = np.empty_like(flat_images)
        # Blocks of rows small enough that the dozen temporaries of a resample stay in the CPU's cache.
        for start in range(0, count, BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, count)
            block = flat_images[start:stop].reshape(stop - start, side, side)
            np.copyto(out[start:stop], self._transform(block, rng).reshape(stop - start, features))
        return out

    def _transform(self, images: FloatArray, rng: np.random.Generator) -> FloatArray:
        index = 0
        while index < len(self.steps):
            if isinstance(self.steps[index], Warp):
                end = index
                while end < len(self.steps) and isinstance(self.steps[end], Warp):
                    end += 1
                images = self._warp(images, self.steps[index:end], rng)
                index = end
            else:
                images = np.asarray(self.steps[index].apply(images, rng), dtype=np.float32)
                index += 1
        return images

    @staticmethod
    def _warp(images: FloatArray, warps: Sequence[Warp], rng: np.random.Generator) -> FloatArray:
        count, height, width = images.shape
        # Affine draws happen in chain order and fold into one matrix per run of them; the coordinates then flow
        # from the output back to the input, through the last transform first.
        drawn: list[Matrices | Warp] = []
        for warp in warps:
            if isinstance(warp, AffineWarp):
                matrices = warp.matrices(count, rng)
                if drawn and not isinstance(drawn[-1], Warp):
                    drawn[-1] = compose(drawn[-1], matrices)
                else:
                    drawn.append(matrices)
            else:
                drawn.append(warp)
        rows, cols = centred_grid(height, width, count)
        for item in reversed(drawn):
            rows, cols = item.warp(rows, cols, rng) if isinstance(item, Warp) else apply_affine(item, rows, cols)
        return resample(images, rows, cols)


def parse_chain(text: str) -> list[str]:
    """``"shift:pixels=2,rotate:degrees=10,scale"`` -> ``["shift:pixels=2", "rotate:degrees=10", "scale"]``.

    A comma starts a new plugin unless what follows is a ``key=value`` option of the plugin before it.
    """
    specs: list[str] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            raise ConfigError(f"empty item in augmentation chain {text!r}")
        key, has_value, _ = part.partition("=")
        if has_value and ":" not in key:
            if not specs:
                raise ConfigError(f"augmentation chain {text!r} starts with an option, not a plugin name")
            separator = "," if ":" in specs[-1] else ":"
            specs[-1] += separator + part
        else:
            specs.append(part)
    return specs
