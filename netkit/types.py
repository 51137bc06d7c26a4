"""Array type aliases shared by the core and the plugins."""

from __future__ import annotations

from typing import Any, Union

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
LabelArray = npt.NDArray[np.int64]
DType = np.float32

# A JSON-compatible value: what plugin configs and history are made of.
JSONValue = Union[None, bool, int, float, str, list[Any], dict[str, Any]]
Config = dict[str, Any]
