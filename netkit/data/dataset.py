"""The typed result every dataset loader returns, and the validation split."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from netkit.errors import ConfigError, DatasetError
from netkit.types import FloatArray, LabelArray


class DatasetWarning(UserWarning):
    """Something in the data was skipped or could not be cached; loading went on."""


def _check_pair(images: FloatArray, labels: LabelArray, part: str) -> None:
    if images.ndim != 2 or images.dtype != np.float32:
        raise DatasetError(f"{part} images must be a float32 (n, features) array, got {images.dtype} {images.shape}")
    if labels.shape != (images.shape[0],):
        raise DatasetError(f"{part} has {images.shape[0]} images but labels of shape {labels.shape}")


@attrs.frozen(eq=False)
class Dataset:
    """Images as float32 rows in [0, 1], labels as int64 class ids.

    ``test_held_out`` is true when there was no test set of its own: the test rows are a seeded random part
    of one pool (a folder or file without a train/test split), and the training rows are the rest of it.
    """

    name: str
    train_images: FloatArray
    train_labels: LabelArray
    test_images: FloatArray
    test_labels: LabelArray
    class_names: tuple[str, ...]
    image_shape: tuple[int, int] = (28, 28)
    test_held_out: bool = False

    def __attrs_post_init__(self) -> None:
        _check_pair(self.train_images, self.train_labels, "training set")
        _check_pair(self.test_images, self.test_labels, "test set")
        if self.train_images.shape[1] != self.test_images.shape[1]:
            raise DatasetError("training and test images have different sizes")

    @property
    def n_features(self) -> int:
        return int(self.train_images.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


@attrs.frozen(eq=False)
class Split:
    """Training rows and the validation rows carved from them."""

    train_images: FloatArray
    train_labels: LabelArray
    validation_images: FloatArray
    validation_labels: LabelArray


def split_validation(
    images: FloatArray, labels: LabelArray, validation: float | int, rng: np.random.Generator
) -> Split:
    """Hold out ``validation`` rows (a count, or a fraction when below 1) chosen by ``rng``."""
    n = images.shape[0]
    is_fraction = isinstance(validation, float) and 0 <= validation < 1
    n_validation = round(n * validation) if is_fraction else int(validation)
    if n_validation < 0 or n_validation >= n:
        raise DatasetError(f"validation size must be in [0, {n}), got {validation}")
    order = rng.permutation(n)
    held_out, kept = order[:n_validation], np.sort(order[n_validation:])
    return Split(images[kept], labels[kept], images[held_out], labels[held_out])


def check_labels(labels: LabelArray, n_classes: int) -> None:
    """A clear error unless every label is a class number in [0, n_classes)."""
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise DatasetError(f"labels must lie in [0, {n_classes}), got [{labels.min()}, {labels.max()}]")


def one_hot(labels: LabelArray, n_classes: int) -> FloatArray:
    """Rows of float32 with a 1 at each label's column."""
    check_labels(labels, n_classes)
    encoded = np.zeros((labels.shape[0], n_classes), dtype=np.float32)
    encoded[np.arange(labels.shape[0]), labels] = 1.0
    return encoded


def checked_targets(targets: Any, rows: int, outputs: int, dtype: Any = np.float32) -> LabelArray | FloatArray:
    """What a model learns from: whole-number class labels, shape ``(rows,)``, as int64; or float values
    (regression), shape ``(rows, outputs)`` (``(rows,)`` for one output), as ``dtype`` rows. Whole numbers
    stored as floats, one per row, are class labels when the model has several outputs. Anything else
    is a clear :class:`~netkit.errors.ConfigError`; a label outside ``[0, outputs)`` a ``DatasetError``."""
    array = np.asarray(targets)
    if array.dtype.kind == "f" and array.shape == (rows,) and outputs > 1 and np.array_equal(array, np.round(array)):
        array = array.astype(np.int64)  # class numbers stored as floats (np.zeros, a pandas column)
    if array.dtype.kind == "f":
        if array.shape == (rows,) and outputs == 1:
            array = array.reshape(rows, 1)
        if array.shape != (rows, outputs):
            raise ConfigError(
                f"float targets are values to regress onto: expected shape ({rows}, {outputs}) for {rows} rows "
                f"and {outputs} output{'s' if outputs > 1 else ''}, got {array.shape}"
            )
        if not np.isfinite(array).all():
            raise ConfigError("float targets hold NaN or infinite values")
        return np.ascontiguousarray(array, dtype=dtype)
    if array.shape != (rows,) or array.dtype.kind not in "iu":
        raise ConfigError(
            f"expected one whole-number label per image ({rows}), or float values to regress onto; "
            f"got {array.dtype} {array.shape}"
        )
    labels = array.astype(np.int64)
    check_labels(labels, outputs)
    return labels


def are_values(targets: np.ndarray[Any, Any]) -> bool:
    """Whether ``targets`` (from :func:`checked_targets`) are values to regress onto rather than class labels."""
    return bool(targets.dtype.kind == "f")
