"""The array functions the hot paths call and the BLAS thread policy, chosen in one place.

``np.dot`` and ``np.vdot`` first call a Python-level dispatcher for the ``__array_function__`` protocol; on
the small arrays of a mini-batch step that costs a third of the call. netkit passes plain ndarrays only, so
it calls the C implementation behind the dispatcher where NumPy exposes it, and ``np.dot`` elsewhere.
A future GPU backend (an array library with NumPy's interface) would swap these names here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

dot: Callable[..., npt.NDArray[Any]] = getattr(np.dot, "_implementation", np.dot)
vdot: Callable[..., Any] = getattr(np.vdot, "_implementation", np.vdot)

# np.matmul is a ufunc (no dispatcher) that hands transposed operands to BLAS as they are: faster than np.dot
# for a large x.T @ g, slower by a fraction of a microsecond on tiny products.
matmul: Callable[..., npt.NDArray[Any]] = np.matmul

# Products with at least this many multiply-adds go through matmul.
MATMUL_FROM = 4096


def product_for(multiply_adds: int, matmul_from: int = MATMUL_FROM) -> Callable[..., npt.NDArray[Any]]:
    """The faster of dot and matmul for a product of this size (chosen once per layer and batch size)."""
    return matmul if multiply_adds >= matmul_from else dot


# Work smaller than this (rows per step x parameters, about a sixth of the FLOPs) runs on one BLAS thread:
# its matrix products are too small to split, and two threads only add hand-offs (the measurements that
# place the line: bench/README.md, "Hot-path choices").
SINGLE_THREAD_BELOW = 20_000_000


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """threadpoolctl's view of the loaded BLAS libraries, found once: each lookup costs a fraction of a millisecond."""
    return ThreadpoolController()


def single_threaded(work: int) -> bool:
    """Whether products of this size (rows x parameters) run best on one BLAS thread."""
    return work < SINGLE_THREAD_BELOW


def blas_threads(work: int) -> AbstractContextManager[Any]:
    """A context that runs BLAS on one thread for small work (see :data:`SINGLE_THREAD_BELOW`), as is otherwise."""
    if single_threaded(work):
        return _blas_controller().limit(limits=1, user_api="blas")  # type: ignore[no-any-return]
    return nullcontext()
