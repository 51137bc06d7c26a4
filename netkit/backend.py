"""The array functions the hot paths call, the BLAS thread policy and the CPUs threads run on, in one place.

``np.dot`` and ``np.vdot`` first call a Python-level dispatcher for the ``__array_function__`` protocol; on
the small arrays of a mini-batch step that costs a third of the call. netkit passes plain ndarrays only, so
it calls the C implementation behind the dispatcher where NumPy exposes it, and ``np.dot`` elsewhere.
A future GPU backend (an array library with NumPy's interface) would swap these names here.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
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


# BLAS runs a product of fewer multiply-adds than this on one thread by itself (OpenBLAS: 65,536 times its
# GEMM_MULTITHREAD_THRESHOLD, 4 by default; none split up to 600,000 in bench/README.md, "Hot-path choices").
BLAS_SPLITS_FROM = 262_144


def blas_threads(work: int, largest_product: int | None = None) -> AbstractContextManager[Any]:
    """A context that runs BLAS on one thread for small work (see :data:`SINGLE_THREAD_BELOW`), as is otherwise.

    A caller that knows its largest product's multiply-adds passes them: below :data:`BLAS_SPLITS_FROM` the
    library keeps every product on one thread anyway, and the limit would only cost its 20-25 µs (a third of a
    one-row prediction)."""
    if largest_product is not None and largest_product < BLAS_SPLITS_FROM:
        return nullcontext()
    if single_threaded(work):
        # threadpoolctl, not the library controllers' own setters: with OpenBLAS's pthreads layer only one
        # thread may set the pool's size at a time, and ``limit`` hands that right back when it is done (the
        # setters alone keep it, and other threads' limits then silently do nothing).
        return _blas_controller().limit(limits=1, user_api="blas")  # type: ignore[no-any-return]
    return nullcontext()


def usable_cpus() -> int:
    """How many CPUs the calling thread may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def two_cpus() -> tuple[int | None, int | None]:
    """The calling thread's two CPUs, one for it and one for a helper thread, when its CPU set holds exactly
    two; (None, None) otherwise, and where a thread cannot be held to a CPU (not Linux).

    Two threads that compute side by side want a CPU each: on a two-CPU machine the scheduler often wakes both
    on one CPU after an idle spell and takes milliseconds to move one away, so that they take turns
    (bench/README.md, "Inference"). With more CPUs the threads are left to the scheduler: holding them to
    fixed ones would pile every process that predicts at once onto the same two."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else []
    return (allowed[0], allowed[1]) if len(allowed) == 2 else (None, None)


@contextlib.contextmanager
def held_to(cpu: int | None) -> Iterator[None]:
    """The calling thread held to ``cpu`` (None: left as it is), its own CPU set restored afterwards."""
    if cpu is None:
        yield
        return
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)
