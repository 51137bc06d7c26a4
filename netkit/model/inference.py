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
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from netkit.backend import blas_threads, single_threaded
from netkit.types import FloatArray

if TYPE_CHECKING:
    from netkit.model.network import Network

PREDICT_CHUNK = 1_024
CHUNK_BYTES = 16 * 2**20


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
        for start in starts:
            result[start : start + size] = on.forward(x[start : start + size])

    # Two chunks or more with enough work: a helper thread takes chunks too, through a twin of the network
    # (its own layers and buffers), and each thread runs BLAS on one thread. NumPy releases the GIL in
    # products and ufuncs, so the activations run in parallel as well as the products, and a thread that
    # other processes delay only takes fewer chunks, where a BLAS thread team waits for its slowest member
    # at every product (bench/README.md, "Inference"). Otherwise the thread rule weighs the whole call.
    work = rows * network.parameter_count
    twin = None if rows <= size or single_threaded(work) else network._predict_twin()
    with blas_threads(0 if twin is not None else work):
        if twin is None:
            run(network)
        else:
            helped = _helper().submit(run, twin)
            run(network)
            helped.result()
    return result
