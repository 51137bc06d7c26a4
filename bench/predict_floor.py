"""How close ``predict_proba`` is to the least a NumPy prediction of the seed net costs, against PyTorch.

    .venv/bin/python bench/predict_floor.py [--turns N] [--data-dir PATH]

On the seed net and the 10,000 MNIST test images, in turns (three calls a side, after a pause, as in
``benchmark.py``; min and median):

- **first-layer products**: x @ W1 chunk by chunk, alone;
- **bare NumPy loop**: the whole prediction as a flat loop of the fifteen NumPy calls a 1,000-row chunk
  needs (the three products, the biases, the sigmoids from -z, the softmax with its row sums), no netkit
  code around them: what any NumPy prediction of this net must spend, Python's call overhead included
  (checked first to give ``predict_proba``'s outputs, to 1e-6);
- **netkit predict_proba**: the same arithmetic through the dense stack, with the input checks, the
  parameters read again, the result allocated, the helper thread woken;
- **PyTorch predict**: ``softmax(net(x))`` under ``inference_mode`` on its default threads, in a worker process
  of its own as in ``benchmark.py``.

The first three run chunks on two threads held to a CPU each, BLAS on one thread, as ``predict_proba`` does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from harness import SETTLE_SECONDS, build_model, case_named, load_mnist, resolve_data_dir, table, torch_worker
from machine import OthersBusy

from netkit.backend import blas_threads, held_to, two_cpus
from netkit.model.network import Network

CHUNK, ROWS, CALLS = 1_000, 10_000, 3
Share = Callable[[Iterator[int], int], None]  # one thread's part of a call: (chunk starts left, which thread)


def on_two_threads(share: Share) -> Callable[[], None]:
    """A call that runs ``share`` on this thread and a helper thread, each taking the next chunk left."""
    helper = ThreadPoolExecutor(max_workers=1)
    our_cpu, helper_cpu = two_cpus()
    if helper_cpu is not None:
        helper.submit(os.sched_setaffinity, 0, {helper_cpu}).result()

    def call() -> None:
        starts = iter(range(0, ROWS, CHUNK))
        with held_to(our_cpu):
            helped = helper.submit(share, starts, 1)
            share(starts, 0)
            helped.result()

    return call


def bare_loops(model: Network, x: np.ndarray[Any, Any]) -> tuple[Share, Share, np.ndarray[Any, Any]]:
    """The first layer's products alone, and the whole prediction, as flat loops of NumPy calls (the latter
    writing into the array returned third)."""
    (w1, b1), (w2, b2), (w3, b3) = [(views["weight"], views["bias"]) for views in model.parameter_views]
    one = np.float32(1)
    minus_b1, minus_b2 = np.tile(-b1, (CHUNK, 1)), np.tile(-b2, (CHUNK, 1))
    tiled_b3, ones = np.tile(b3, (CHUNK, 1)), np.ones((len(b3), len(b3)), np.float32)
    buffers = [[np.empty((CHUNK, len(b)), np.float32) for b in (b1, b2, b3, b3)] for _ in range(2)]
    result = np.empty((ROWS, len(b3)), np.float32)

    def products(starts: Iterator[int], thread: int) -> None:
        z1 = buffers[thread][0]
        for start in starts:
            np.matmul(x[start : start + CHUNK], w1, z1)

    def whole(starts: Iterator[int], thread: int) -> None:
        z1, z2, z3, sums = buffers[thread]
        for start in starts:
            np.matmul(x[start : start + CHUNK], w1, z1)
            np.subtract(minus_b1, z1, z1)  # -z, from which the sigmoid takes three passes
            np.exp(z1, z1)
            np.add(z1, one, z1)
            np.divide(one, z1, z1)
            np.matmul(z1, w2, z2)
            np.subtract(minus_b2, z2, z2)
            np.exp(z2, z2)
            np.add(z2, one, z2)
            np.divide(one, z2, z2)
            np.matmul(z2, w3, z3)
            np.add(z3, tiled_b3, z3)
            out = result[start : start + CHUNK]
            np.exp(z3, out)  # bounded inputs: no shift needed
            np.matmul(out, ones, sums)
            np.divide(out, sums, out)

    return products, whole, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=15, help="turns of three calls for each side (default 15)")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    x, case = load_mnist(data_dir).test_images, case_named("seed-b32")
    model = build_model(case)
    products, whole, outputs = bare_loops(model, x)
    whole(iter(range(0, ROWS, CHUNK)), 0)  # the bare loop must compute what predict_proba does
    np.testing.assert_allclose(outputs, model.predict_proba(x), rtol=0, atol=1e-6)
    ours = {"first-layer products": on_two_threads(products), "bare NumPy loop": on_two_threads(whole)}
    sides: dict[str, Callable[[], object]] = {**ours, "netkit predict_proba": lambda: model.predict_proba(x)}
    seconds: dict[str, list[float]] = {name: [] for name in [*sides, "PyTorch predict"]}
    busy = OthersBusy()
    with torch_worker(data_dir) as torch:
        request = {"op": "predict", "case": case.to_dict(), "repeats": CALLS}
        for turn in range(args.turns + 1):  # the first turn is a warm-up, not counted
            for name, side in sides.items():
                time.sleep(SETTLE_SECONDS)
                with blas_threads(0) if name in ours else contextlib.nullcontext():  # set outside the timing
                    for _ in range(CALLS):
                        started = time.perf_counter()
                        side()
                        if turn:
                            seconds[name].append(time.perf_counter() - started)
            time.sleep(SETTLE_SECONDS)
            theirs = torch.request(**request)["samples"]
            if turn:
                seconds["PyTorch predict"] += theirs
    best = {name: min(samples) * 1000 for name, samples in seconds.items()}
    theirs_ms = best["PyTorch predict"]
    rows = [
        [name, f"{best[name]:.2f}", f"{np.median(samples) * 1000:.2f}", f"{best[name] / theirs_ms:.2f}"]
        for name, samples in seconds.items()
    ]
    print(table(["side", "min ms", "median ms", "min / PyTorch's"], rows))
    print(f"load average {os.getloadavg()[0]:.2f}; other processes kept {busy.stop().cores() or 0.0:.2f} cores busy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
