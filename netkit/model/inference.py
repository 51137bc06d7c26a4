"""Predicting many rows: equal chunks, and on a multi-core machine a second thread taking chunks too.

Chunks of at most :data:`PREDICT_CHUNK` rows keep each layer's input and output in the CPU caches, where one
product over all rows streams them through memory, and bound memory (bench/README.md, "Inference"). Rows
are split into equal chunks, so the layers' buffers are allocated once. A net whose layers give many values
per row (a conv net's feature maps) takes fewer rows a chunk, so that its layers' outputs for one chunk stay
within :data:`CHUNK_BYTES`.
"""

from __future__ import annotations

import functools
import math
import os
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from netkit.backend import blas_threads, held_to, single_threaded, two_cpus, usable_cpus
from netkit.model.dense_inference import DenseStack, dense_stack
from netkit.types import FloatArray

if TYPE_CHECKING:
    from netkit.model.network import Network

PREDICT_CHUNK = 1_024
CHUNK_BYTES = 16 * 2**20
# Each network's dense stack, or None for a network that is not one (layers never change after assembly).
_stacks: weakref.WeakKeyDictionary[Network, DenseStack | None] = weakref.WeakKeyDictionary()


@functools.cache
def _helper() -> ThreadPoolExecutor:
    """The second predicting thread, started once rather than on every call (its start-up is not free)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="netkit-predict")


def chunk_rows(network: Network) -> int:
    """The most rows a chunk holds: :data:`PREDICT_CHUNK`, or fewer for layers with many outputs per row."""
    row_bytes = sum(math.prod(shape) for shape in network.shapes[1:]) * network.dtype.itemsize
    return max(1, min(PREDICT_CHUNK, CHUNK_BYTES // row_bytes))


def predict_in_chunks(network: Network, x: FloatArray) -> FloatArray:
    """``network``'s outputs for the rows ``x`` (already checked), as a new array."""
    rows = x.shape[0]
    result = np.empty((rows, *network.output_shape), dtype=network.dtype)
    size = max(1, -(-rows // max(1, -(-rows // chunk_rows(network)))))  # ceil(rows / ceil(rows / most))
    starts = iter(range(0, rows, size))  # shared: each thread below takes the next chunk left

    def run(on: Network) -> None:
        forward_into = _forward_into(on, size)
        for start in starts:
            forward_into(x[start : start + size], result[start : start + size])

    # Two chunks or more with enough work and two CPUs: a helper thread takes chunks too, through a twin of
    # the network (its own layers and buffers), each thread on a CPU of its own and BLAS on one thread. NumPy
    # releases the GIL in products and ufuncs, so the activations run in parallel as well as the products,
    # and a thread that other processes delay only takes fewer chunks, where a BLAS thread team waits for its
    # slowest member at every product (bench/README.md, "Inference"). Otherwise the thread rule weighs the
    # whole call.
    work = rows * network.parameter_count
    two_threads = rows > size and not single_threaded(work) and usable_cpus() >= 2
    twin = network._predict_twin() if two_threads else None
    with blas_threads(0 if twin is not None else work):
        if twin is None:
            run(network)
        else:
            ours, helpers = two_cpus()
            with held_to(ours):
                helped = _helper().submit(_run_held, helpers, run, twin)
                run(network)
                helped.result()
    return result


def _run_held(cpu: int | None, run: Callable[[Network], None], network: Network) -> None:
    """``run(network)`` on the helper thread, held to ``cpu`` (and left there: the thread is netkit's own)."""
    global _helper_cpu
    if cpu is not None and cpu != _helper_cpu:
        os.sched_setaffinity(0, {cpu})
        _helper_cpu = cpu
    run(network)


_helper_cpu: int | None = None  # the CPU the helper thread is held to


def _forward_into(network: Network, rows: int) -> Callable[[FloatArray, FloatArray], None]:
    """How ``network`` writes its outputs for a chunk of at most ``rows`` rows into the result: a stack of
    dense layers in fewer passes (:mod:`netkit.model.dense_inference`; built once per network, its parameters
    read again on every call), any other network layer by layer."""
    if network in _stacks:
        stack = _stacks[network]
        if stack is not None:
            stack.refresh(rows)
    else:
        stack = _stacks[network] = dense_stack(network, chunk_rows(network))
    if stack is not None:
        return stack.forward_into

    def forward_into(x: FloatArray, out: FloatArray) -> None:
        out[...] = network.forward(x)

    return forward_into
