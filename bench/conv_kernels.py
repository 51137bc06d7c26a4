"""Time the fast convolution and pooling kernels on LeNet-5's spatial layers, beside PyTorch when it is installed.

How to run::

    .venv/bin/python bench/conv_kernels.py [--threads N] [--rounds R]

It times one training step's spatial part at batch 64 in float32 — conv 6@5x5 same on 1x28x28, max pool 2,
conv 16@5x5 valid on 6x14x14, max pool 2: every forward, and every backward except the first convolution's
input gradient (nothing below it needs one) — through ``netkit.plugins.convolution_kernels``
(``Conv2dWorkspace`` as a training loop would hold it), and prints milliseconds per batch (min and median of
the rounds) and the seconds per 60,000-image epoch that extrapolates to. With ``torch`` importable the same
ops run through ``torch.nn.functional`` with autograd, rounds alternating with netkit's, and the ratio is
printed. PyTorch is never a netkit dependency: ``.venv/bin/pip install torch==2.13.0`` (CPU) to compare.
``--threads`` sets both libraries' thread counts (default: their own). The load average is printed first
and last: on a shared machine the figures move with it, the ratio less so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from netkit.plugins.convolution_kernels import Conv2dWorkspace, max_pool2d_backward, max_pool2d_forward

BATCH = 64
EPOCH = 60_000


def netkit_step(rng: np.random.Generator) -> Callable[[], None]:
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    kernel1 = (rng.standard_normal((5, 5, 1, 6)) * 0.2).astype(np.float32)
    kernel2 = (rng.standard_normal((5, 5, 6, 16)) * 0.1).astype(np.float32)
    bias1, bias2 = np.zeros(6, np.float32), np.zeros(16, np.float32)
    conv1 = Conv2dWorkspace(x.shape, kernel1.shape, 1, "same", np.float32)
    conv2 = Conv2dWorkspace((BATCH, 6, 14, 14), kernel2.shape, 1, "valid", np.float32)
    dy = rng.standard_normal((BATCH, 16, 5, 5)).astype(np.float32)

    def step() -> None:
        a1 = conv1.forward(x, kernel1, bias1)
        p1 = max_pool2d_forward(a1, 2, 2)
        a2 = conv2.forward(p1, kernel2, bias2)
        p2 = max_pool2d_forward(a2, 2, 2)
        da2 = max_pool2d_backward(a2, dy, 2, 2, y=p2)
        dp1, _, _ = conv2.backward(kernel2, da2)
        assert dp1 is not None
        da1 = max_pool2d_backward(a1, dp1, 2, 2, y=p1)
        conv1.backward(kernel1, da1, input_gradient=False)

    return step


def torch_step(rng: np.random.Generator) -> Callable[[], None] | None:
    try:
        import torch
        from torch.nn import functional
    except ImportError:
        return None
    x = torch.from_numpy(rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32))
    kernel1 = torch.nn.Parameter(torch.randn(6, 1, 5, 5) * 0.2)
    kernel2 = torch.nn.Parameter(torch.randn(16, 6, 5, 5) * 0.1)
    bias1, bias2 = torch.nn.Parameter(torch.zeros(6)), torch.nn.Parameter(torch.zeros(16))
    dy = torch.from_numpy(rng.standard_normal((BATCH, 16, 5, 5)).astype(np.float32))

    def step() -> None:
        a1 = functional.conv2d(x, kernel1, bias1, padding="same")
        p1 = functional.max_pool2d(a1, 2)
        p2 = functional.max_pool2d(functional.conv2d(p1, kernel2, bias2), 2)
        p2.backward(dy)

    return step


def time_rounds(steps: dict[str, Callable[[], None]], rounds: int, repeats: int) -> dict[str, list[float]]:
    """Milliseconds per step for each round, the libraries taking turns round by round."""
    figures: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        step()
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(repeats):
                step()
            figures[name].append((time.perf_counter() - start) / repeats * 1e3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: their own)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=20)
    arguments = parser.parse_args()
    rng = np.random.default_rng(0)
    steps = {"netkit": netkit_step(rng)}
    torch_side = torch_step(rng)
    if torch_side is None:
        print("torch not installed — PyTorch column skipped")
    else:
        import torch

        if arguments.threads:
            torch.set_num_threads(arguments.threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        steps["torch"] = torch_side
    print(f"load average before: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    with threadpool_limits(arguments.threads, "blas"):
        figures = time_rounds(steps, arguments.rounds, arguments.repeats)
    print(f"load average after:  {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    batches = EPOCH / BATCH
    print(f"{'':8}{'ms/batch min':>14}{'median':>10}{'s/epoch min':>13}{'median':>10}")
    for name, values in figures.items():
        low, middle = min(values), statistics.median(values)
        print(f"{name:8}{low:14.2f}{middle:10.2f}{low * batches / 1e3:13.2f}{middle * batches / 1e3:10.2f}")
    if "torch" in figures:
        ratio_min = min(figures["netkit"]) / min(figures["torch"])
        ratio_median = statistics.median(figures["netkit"]) / statistics.median(figures["torch"])
        print(f"netkit / torch: {ratio_min:.2f} (min), {ratio_median:.2f} (median)")


if __name__ == "__main__":
    main()
