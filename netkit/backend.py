"""The array functions the hot paths call, chosen in one place.

``np.dot`` and ``np.vdot`` first call a Python-level dispatcher for the ``__array_function__`` protocol; on
the small arrays of a mini-batch step that costs a third of the call. netkit passes plain ndarrays only, so
it calls the C implementation behind the dispatcher where NumPy exposes it, and ``np.dot`` elsewhere.
A future GPU backend (an array library with NumPy's interface) would swap these names here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

dot: Callable[..., npt.NDArray[Any]] = getattr(np.dot, "_implementation", np.dot)
vdot: Callable[..., Any] = getattr(np.vdot, "_implementation", np.vdot)
