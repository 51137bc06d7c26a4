"""Image files to MNIST-like rows: the one preprocessing every caller shares (loaders, ``netkit predict``).

The rule, in :func:`to_mnist`:

1. **Ink.** If the image has transparency that is not fully opaque, its alpha channel *is* the ink
   (strokes drawn on a transparent background, in any colour). Otherwise the image is made grayscale and,
   when it is dark-on-light (the mean of its border pixels is above 0.5), inverted, because MNIST is
   light ink on a dark background. The median of the border is then taken as the background level and
   subtracted (rescaling the rest to [0, 1]), so grey paper or a grey screen becomes black.
2. **Placement.** ``center=True`` does what was done to MNIST itself: crop to the bounding box of the ink
   (pixels above 0.05), scale it to fit a 20x20 box keeping its aspect ratio (antialiased Lanczos
   resampling), and paste it into a black 28x28 field so that its centre of mass lands on pixel (14, 14).
   ``center=False`` only resizes the whole image to 28x28 (nothing happens to an image already 28x28):
   the choice for images that are MNIST-like already, e.g. MNIST digits saved as PNG files.

The result is a float32 row of 784 values in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from netkit.data.pixels import to_unit_interval
from netkit.errors import DatasetError
from netkit.types import FloatArray

SIDE = 28
BOX = 20
INK_THRESHOLD = 0.05
PREPROCESS_VERSION = 1  # bump when the rule changes: decoded caches keyed on it become stale
_RESAMPLE = Image.Resampling.LANCZOS
_EXIF_FORMATS = frozenset({"JPEG", "MPO", "TIFF", "WEBP"})  # PNGs rarely carry an orientation: skip the cost


def open_image(path: str | Path) -> Image.Image:
    """Open and fully decode an image file, or raise a one-line :class:`DatasetError` naming it.

    Photos are turned upright by their EXIF orientation (as a phone camera records it).
    """
    try:
        image: Image.Image = Image.open(path)
        with image:
            image.load()
        if image.format in _EXIF_FORMATS:
            return ImageOps.exif_transpose(image)
        return image
    except FileNotFoundError:
        raise DatasetError(f"image file not found: {path}") from None
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, ValueError, bombs...)
        raise DatasetError(f"cannot read image {path}: {exc}") from None


def _gray(image: Image.Image) -> FloatArray:
    """Luminance in [0, 1] for any mode, 16-bit and float ones included."""
    if image.mode == "L":
        return to_unit_interval(np.asarray(image))
    if image.mode.startswith("I") or image.mode == "F":
        values: FloatArray = np.array(image.convert("F") if image.mode != "F" else image, dtype=np.float32)
        _fill_missing(values)
        peak = float(values.max()) if values.size else 0.0
        scale = 1.0 if peak <= 1.0 else 255.0 if peak <= 255.0 else 65535.0
        values = values / np.float32(scale)
        np.clip(values, 0.0, 1.0, out=values)
        return values
    if image.mode not in ("RGB", "RGBA", "LA", "1", "P"):
        image = image.convert("RGB")  # CMYK, YCbCr and the like reach gray through RGB
    return to_unit_interval(np.asarray(image.convert("L")))


def _fill_missing(values: FloatArray) -> None:
    """Pixels that are not numbers (NaN, infinities in float images) become the background, in place.

    Left in, one NaN makes the peak NaN and the scaling guess wrong, and the whole digit is lost.
    """
    finite = np.isfinite(values)
    if finite.all():
        return
    border = _border(values)
    border = border[np.isfinite(border)]
    values[~finite] = float(np.median(border)) if border.size else 0.0


def has_ink(row: FloatArray) -> bool:
    """Whether a preprocessed image holds any ink at all (a blank page gives an answer that means nothing)."""
    return bool(row.size) and float(np.max(row)) > INK_THRESHOLD


def _border(values: FloatArray) -> FloatArray:
    if values.shape[0] < 3 or values.shape[1] < 3:
        return values.reshape(-1)
    return np.concatenate([values[0], values[-1], values[1:-1, 0], values[1:-1, -1]])


def _has_transparency(image: Image.Image) -> bool:
    # Pillow 10.1 has Image.has_transparency_data; this is the same test, for Pillow 10.0 too.
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def ink(image: Image.Image) -> FloatArray:
    """A 2-D float32 map in [0, 1] of where the ink is: light strokes on black, as in MNIST (step 1)."""
    if _has_transparency(image):
        with_alpha = image if image.mode in ("RGBA", "LA") else image.convert("LA" if image.mode == "La" else "RGBA")
        alpha = np.asarray(with_alpha.getchannel("A"))
        if alpha.size and int(alpha.min()) < 255:
            return to_unit_interval(alpha)
        image = with_alpha.convert("RGB") if with_alpha.mode == "RGBA" else with_alpha.convert("L")
    values = _gray(image)
    border = _border(values)
    if border.size == 0:
        return values
    if float(border.sum()) > 0.5 * border.size:  # mostly light border: dark ink on light paper
        values = np.subtract(np.float32(1), values, dtype=np.float32)
        border = 1 - border
    if float(border.max()) > 0:
        background = float(np.partition(border, border.size // 2)[border.size // 2])  # the median
        if background >= 0.99:
            return np.zeros_like(values)
        if background > 0:
            values = (values - np.float32(background)) / np.float32(1 - background)
            np.clip(values, 0.0, 1.0, out=values)
    return values


def _resized(values: FloatArray, width: int, height: int) -> FloatArray:
    if values.shape == (height, width):
        return values
    resized = Image.fromarray(values).resize((width, height), _RESAMPLE)  # float32 -> mode "F"
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _centered(values: FloatArray) -> FloatArray:
    """Step 2 with ``center=True``: crop to the ink, fit in 20x20, centre by mass in 28x28."""
    field = np.zeros((SIDE, SIDE), dtype=np.float32)
    rows = np.flatnonzero((values > INK_THRESHOLD).any(axis=1))
    if rows.size == 0:
        return field
    columns = np.flatnonzero((values > INK_THRESHOLD).any(axis=0))
    crop = values[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    new_height, new_width = max(1, round(height * scale)), max(1, round(width * scale))
    fitted = _resized(np.ascontiguousarray(crop), new_width, new_height)
    mass = float(fitted.sum())
    if mass <= 0:
        return field
    center_row = float((fitted.sum(axis=1) * np.arange(new_height)).sum()) / mass
    center_column = float((fitted.sum(axis=0) * np.arange(new_width)).sum()) / mass
    top = min(max(round(SIDE / 2 - center_row), 0), SIDE - new_height)
    left = min(max(round(SIDE / 2 - center_column), 0), SIDE - new_width)
    field[top : top + new_height, left : left + new_width] = fitted
    return field


def to_mnist(image: Image.Image, *, center: bool = True) -> FloatArray:
    """An image of any mode and size as an MNIST-like float32 row of 784 values in [0, 1].

    See the module docstring for the rule; ``center`` chooses crop/fit/centre (MNIST's own preparation)
    or a plain resize.
    """
    values = ink(image)
    placed = _centered(values) if center else _resized(values, SIDE, SIDE)
    return np.ascontiguousarray(placed, dtype=np.float32).reshape(SIDE * SIDE)


def load_image(path: str | Path, *, center: bool = True) -> FloatArray:
    """Read an image file and preprocess it with :func:`to_mnist`; any failure is a :class:`DatasetError`."""
    image = open_image(path)
    try:
        return to_mnist(image, center=center)
    except (OSError, ValueError) as exc:  # e.g. a colour mode Pillow cannot convert
        raise DatasetError(f"cannot preprocess image {path} (mode {image.mode}): {exc}") from None
