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
import threading
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
# The helper thread's stack for each network that is one.
_helper_stacks: weakref.WeakKeyDictionary[Network, DenseStack] = weakref.WeakKeyDictionary()
# One lock per network: two threads predicting with one model take turns.
_locks: weakref.WeakKeyDictionary[Network, threading.Lock] = weakref.WeakKeyDictionary()
_locks_lock = threading.Lock()


@functools.cache
def _helper() -> ThreadPoolExecutor:
    """The second predicting thread, started once rather than on every call (its start-up is not free)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="netkit-predict")


def chunk_rows(network: Network) -> int:
    """The most rows a chunk holds: :data:`PREDICT_CHUNK`, or fewer for layers with many outputs per row."""
    row_bytes = sum(math.prod(shape) for shape in network.shapes[1:]) * network.dtype.itemsize
    return max(1, min(PREDICT_CHUNK, CHUNK_BYTES // row_bytes))


def predict_in_chunks(network: Network, x: FloatArray, check: Callable[[FloatArray], None] | None = None) -> FloatArray:
    """``network``'s outputs for the rows ``x`` (already shaped), as a new array; ``check(x)``, if given, runs
    first on the calling thread (while a helper thread starts)."""
    rows = x.shape[0]
    result = np.empty((rows, *network.output_shape), dtype=network.dtype)
    size = max(1, -(-rows // max(1, -(-rows // chunk_rows(network)))))  # ceil(rows / ceil(rows / most))
    starts = iter(range(0, rows, size))  # shared: each thread below takes the next chunk left

    def run(forward_into: ForwardInto) -> None:
        for start in starts:
            forward_into(x[start : start + size], result[start : start + size])

    # Two chunks or more with enough work and two CPUs: a helper thread takes chunks too, with layers and
    # buffers of its own, each thread on a CPU of its own (held there on a two-CPU machine) and BLAS on one
    # thread. NumPy releases the GIL in products and ufuncs, so the activations run in parallel as well as
    # the products, and a thread that other processes delay only takes fewer chunks, where a BLAS thread team
    # waits for its slowest member at every product (bench/README.md, "Inference"). Otherwise the thread
    # rule weighs the whole call.
    work = rows * network.parameter_count
    with _lock_of(network):  # the layers' and stacks' buffers serve one call at a time
        stack = _stack(network, size)
        ours = _layer_by_layer(network) if stack is None else stack.forward_into
        helpers = None
        if rows > size and not single_threaded(work) and usable_cpus() >= 2:
            helpers = _helper_forward(network, stack)

        def our_share() -> None:
            if check is not None:
                check(x)  # while the helper thread starts
            run(ours)

        def stop() -> None:  # leave the helper no chunks (after a warning raised as an error, say)
            for _ in starts:
                pass

        largest = None if stack is None else min(rows, size) * stack.widest_row  # a dense net's largest product
        _in_threads(our_share, None if helpers is None else functools.partial(run, helpers), work, stop, largest)
    return result


Share = Callable[[], None]  # one thread's part of a prediction


def _in_threads(ours: Share, helpers: Share | None, work: int, stop: Share, largest: int | None = None) -> None:
    """``ours()`` on the calling thread and ``helpers()``, if given, on the helper thread at the same time, BLAS
    on one thread each (without a helper, on the thread rule for ``work`` and a chunk's ``largest`` product, in
    multiply-adds, when known); ``stop()`` after an error in ours."""
    with blas_threads(0) if helpers is not None else blas_threads(work, largest):
        if helpers is None:
            ours()
            return
        our_cpu, helper_cpu = two_cpus()
        with held_to(our_cpu):
            helped = _helper().submit(_run_held, helper_cpu, helpers)
            try:
                ours()
            except BaseException:
                stop()
                raise
            finally:
                helped.result()


ForwardInto = Callable[[FloatArray, FloatArray], None]


def _run_held(cpu: int | None, share: Share) -> None:
    """``share()`` on the helper thread, held to ``cpu`` (and left there: the thread is netkit's own)."""
    global _helper_cpu
    if cpu is not None and cpu != _helper_cpu:
        os.sched_setaffinity(0, {cpu})
        _helper_cpu = cpu
    share()


_helper_cpu: int | None = None  # the CPU the helper thread is held to


def _lock_of(network: Network) -> threading.Lock:
    lock = _locks.get(network)
    if lock is None:
        with _locks_lock:
            lock = _locks.setdefault(network, threading.Lock())
    return lock


def _stack(network: Network, rows: int) -> DenseStack | None:
    """``network``'s dense stack (:mod:`netkit.model.dense_inference`; built on first use, its parameters read
    again on every call), or None for a network that is not one."""
    if network in _stacks:
        stack = _stacks[network]
        if stack is not None:
            stack.refresh(rows)
        return stack
    stack = _stacks[network] = dense_stack(network, chunk_rows(network))
    return stack


def _helper_forward(network: Network, stack: DenseStack | None) -> ForwardInto | None:
    """How the helper thread computes chunks: a dense stack of its own over the same prepared parameters, or
    a twin of the network (its own layers, this one's parameters copied in); None when the layers cannot be
    rebuilt from their config."""
    if stack is None:
        twin = network._predict_twin()
        return None if twin is None else _layer_by_layer(twin)
    helpers = _helper_stacks.get(network)
    if helpers is None:
        twin = network._predict_twin(with_parameters=False)  # only its activations are used
        if twin is None:
            return None
        helpers = _helper_stacks[network] = stack.for_another_thread(twin)
    return helpers.forward_into


def _layer_by_layer(network: Network) -> ForwardInto:
    def forward_into(x: FloatArray, out: FloatArray) -> None:
        out[...] = network.forward(x)

    return forward_into
