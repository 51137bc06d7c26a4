"""Labelled images in a CSV file: the label first, then the pixel values, one image per row.

This is the Kaggle "Digit Recognizer" layout (``label,pixel0,...,pixel783``). Rules:

- A header row is recognised by its first cell not being a number, and skipped; a header whose first
  column is a pixel (``pixel0``) means the file has no labels, which is an error.
- Pixels are either 0..255 or already 0..1: if the largest value in the file is above 1 they are divided
  by 255. Negative values, values above 255 and non-integral labels are errors.
- A ragged row or a cell that is not a number is reported with its line number.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt

from netkit.errors import DatasetError
from netkit.types import FloatArray, LabelArray

_ENCODING = "utf-8-sig"  # a byte-order mark, as spreadsheet programs write, is not part of the first cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding=_ENCODING) as file:
            for line in file:
                if line.strip():
                    return line
    except FileNotFoundError:
        raise DatasetError(f"CSV file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    raise DatasetError(f"{path} is empty; expected rows of label,pixel,pixel,...")


def _header_lines(path: Path) -> int:
    first_cell = _first_line(path).split(",")[0].strip().strip('"').lower()
    if _is_number(first_cell):
        return 0
    if first_cell.startswith("pixel"):
        raise DatasetError(
            f"{path} has no label column (its first column is {first_cell!r}); netkit needs label,pixels"
        )
    return 1


def _find_bad_line(path: Path, skip: int) -> str | None:
    """The first ragged or non-numeric line, described, when NumPy's parser gave up."""
    expected = 0
    with path.open(encoding=_ENCODING) as file:
        for number, line in enumerate(file, start=1):
            if number <= skip or not line.strip():
                continue
            cells = line.rstrip("\r\n").split(",")
            expected = expected or len(cells)
            if len(cells) != expected:
                return f"{path}:{number}: {len(cells)} values where the earlier rows have {expected}"
            for column, cell in enumerate(cells, start=1):
                if not _is_number(cell):
                    return f"{path}:{number}: column {column} is not a number: {cell.strip()[:20]!r}"
    return None


def _parse(path: Path, skip: int) -> npt.NDArray[np.float32]:
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="loadtxt: input contained no data")  # reported below
            table = np.loadtxt(path, delimiter=",", skiprows=skip, dtype=np.float32, ndmin=2, encoding=_ENCODING)
    except (ValueError, UnicodeDecodeError) as exc:
        try:
            problem = _find_bad_line(path, skip)
        except (OSError, UnicodeDecodeError) as read_error:
            problem = f"cannot read {path}: {read_error}"
        raise DatasetError(problem or f"{path}: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    if table.shape[0] == 0:
        raise DatasetError(f"{path} holds no data rows")
    if table.shape[1] < 2:
        raise DatasetError(f"{path} has {table.shape[1]} column(s); expected label,pixel,pixel,...")
    if not np.isfinite(table).all():
        row = int(np.flatnonzero(~np.isfinite(table).all(axis=1))[0])
        raise DatasetError(f"{path}: data row {row + 1} holds a value that is not finite")
    return table


def read_csv(path: Path) -> tuple[FloatArray, LabelArray]:
    """Images as float32 rows in [0, 1] and labels as int64 from a label-first CSV file."""
    table = _parse(path, _header_lines(path))
    raw_labels = table[:, 0]
    if (raw_labels < 0).any() or (raw_labels != np.round(raw_labels)).any():
        bad = float(raw_labels[(raw_labels < 0) | (raw_labels != np.round(raw_labels))][0])
        raise DatasetError(f"{path}: labels must be whole numbers >= 0, found {bad:g}")
    labels = raw_labels.astype(np.int64)
    images = np.ascontiguousarray(table[:, 1:])
    del table
    lowest, highest = float(images.min()), float(images.max())
    if lowest < 0 or highest > 255:
        raise DatasetError(f"{path}: pixel values must lie in 0..255 (or 0..1), found {lowest:g}..{highest:g}")
    if highest > 1:
        images /= np.float32(255)
    return images, labels


def image_shape_for(n_features: int) -> tuple[int, int]:
    """Square images when the pixel count is a square (784 -> 28x28), else one row of pixels."""
    side = math.isqrt(n_features)
    return (side, side) if side * side == n_features else (1, n_features)
