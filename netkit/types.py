"""Array type aliases shared by the core and the plugins."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# float32 in models; float64 where gradient checks need the precision.
FloatArray = npt.NDArray[np.floating[Any]]
LabelArray = npt.NDArray[np.int64]
# What a model learns from: class labels, or rows of float values to regress onto.
TargetArray = LabelArray | FloatArray
# A plugin's options: JSON-compatible values only, no arrays.
Config = dict[str, Any]
