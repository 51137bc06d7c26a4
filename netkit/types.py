"""Array type aliases shared by the core and the plugins."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# float32 in models; float64 where gradient checks need the precision.
FloatArray = npt.NDArray[np.floating[Any]]
LabelArray = npt.NDArray[np.int64]
DType = np.float32

# A JSON-compatible value: what plugin configs and history are made of.
JSONValue = None | bool | int | float | str | list[Any] | dict[str, Any]
Config = dict[str, Any]
