"""How the Python API reads its arguments: sample shapes, whole numbers and Keras' ``verbose``, each checked with
a one-line error that echoes the value given."""

from __future__ import annotations

from typing import Any

import numpy as np

from netkit.errors import ConfigError


def sample_shape(rows: Any) -> tuple[int, ...]:
    """One sample's shape in ``rows``: flat features, a one-channel image, or channels and an image."""
    shape = np.shape(rows)
    if len(shape) < 2 or 0 in shape[1:]:
        raise ConfigError(f"expected rows of samples (n, features) or images (n, height, width), got shape {shape}")
    return (1, *shape[1:]) if len(shape) == 3 else tuple(int(size) for size in shape[1:])


def shows_progress(verbose: Any, progress: bool | None) -> bool | None:
    """Keras' ``verbose`` (0 silent, 1 or 2 a progress bar, ``"auto"`` as netkit decides) as ``progress``."""
    if verbose is None or (isinstance(verbose, str) and verbose == "auto"):
        return progress
    if isinstance(verbose, bool) or not isinstance(verbose, int | np.integer) or verbose not in (0, 1, 2):
        raise ConfigError(f"verbose must be 0, 1, 2 or 'auto', as in Keras. Received: verbose={verbose!r}")
    if progress is not None:
        raise ConfigError("progress and verbose say the same thing: give one of them")
    return verbose != 0


def whole_number(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int of at least ``minimum`` (a bool is no number here), named ``name`` in the error."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}. Received: {name}={value!r}")
    return int(value)
