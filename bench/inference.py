"""Inference speed: netkit's ``predict`` / ``predict_proba`` against PyTorch's on the 10,000 MNIST test images.

``.venv/bin/python bench/inference.py [--turns 15] [--calls 5] [--threads N] [--model PATH] [--data-dir PATH]``

Both sides score the same network with the same weights (by default the shipped 784-16-16-10 sigmoid
model). PyTorch runs in a child process, so its OpenMP threads never spin beside NumPy's BLAS threads, and
the two take turns: each turn times ``--calls`` calls on one side, then on the other, so a busy spell on a
shared machine hits both. PyTorch's calls are ``softmax(net(x))`` and ``net(x).argmax(1)`` under
``inference_mode``, with the images handed over once as a tensor sharing NumPy's memory. It prints the min
and median milliseconds of each side and the ratio netkit / PyTorch of the minima. PyTorch is never a
netkit dependency: ``.venv/bin/pip install torch==2.13.0``.

``--threads 1`` runs both on one thread (BLAS and PyTorch's intra-op pool) and also reports CPU time, the
calling thread's own: on a machine where other processes keep the cores busy, wall time mostly measures
them, while one thread's CPU time still measures the work.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import load_mnist, resolve_data_dir

from netkit.io import load_model
from netkit.model import Sequential
from netkit.pretrained import pretrained_model_path

OPERATIONS = ("predict_proba", "predict")


def timed(function: Callable[[], object], calls: int) -> list[tuple[float, float]]:
    """(wall seconds, calling thread's CPU seconds) of each of ``calls`` calls."""
    samples = []
    for _ in range(calls):
        started, cpu_started = time.perf_counter(), time.thread_time()
        function()
        samples.append((time.perf_counter() - started, time.thread_time() - cpu_started))
    return samples


def torch_child(model_path: str, data_dir: str, threads: int | None) -> int:
    """Answer each request line (an operation and a call count) with a JSON list of (wall, CPU) seconds."""
    import torch
    from torch import nn

    if threads:
        torch.set_num_threads(threads)
    model = load_model(model_path).model
    modules: list[nn.Module] = []
    for index, views in enumerate(model.parameter_views):
        linear = nn.Linear(*views["weight"].shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(views["weight"].T.copy()))
            linear.bias.copy_(torch.from_numpy(views["bias"].copy()))
        modules.append(linear)
        if index < len(model.parameter_views) - 1:
            modules.append(nn.Sigmoid())
    net = nn.Sequential(*modules).eval()
    images = torch.from_numpy(load_mnist(Path(data_dir)).test_images)

    def predict_proba() -> object:
        with torch.inference_mode():
            return torch.softmax(net(images), dim=1).numpy()

    def predict() -> object:
        with torch.inference_mode():
            return net(images).argmax(dim=1).numpy()

    functions = {"predict_proba": predict_proba, "predict": predict}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        operation, calls = line.split()
        print(json.dumps(timed(functions[operation], int(calls))), flush=True)
    return 0


def check_the_model(model: Sequential) -> None:
    activations = {type(getattr(layer, "activation", None)).__name__ for layer in model.layers[:-1]}
    if activations - {"Sigmoid"}:
        raise SystemExit(f"this benchmark mirrors sigmoid hidden layers only, not {sorted(activations)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=15, help="turns per operation (default 15)")
    parser.add_argument("--calls", type=int, default=5, help="calls timed per side in a turn (default 5)")
    parser.add_argument("--threads", type=int, help="threads on each side (default: as each library chooses)")
    parser.add_argument("--model", default=str(pretrained_model_path()), help="a netkit model file")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    parser.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    if args.torch_child:
        return torch_child(args.model, str(data_dir), args.threads)
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    model = load_model(args.model).model
    check_the_model(model)
    images = load_mnist(data_dir).test_images
    netkit: dict[str, Callable[[], Any]] = {
        "predict_proba": lambda: model.predict_proba(images),
        "predict": lambda: model.predict(images),
    }
    child = subprocess.Popen(
        [sys.executable, __file__, "--torch-child", "--model", args.model, "--data-dir", str(data_dir)]
        + (["--threads", str(args.threads)] if args.threads else []),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    about = json.loads(child.stdout.readline())

    def torch_side(operation: str, calls: int) -> list[tuple[float, float]]:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(f"{operation} {calls}\n")
        child.stdin.flush()
        return [(wall, cpu) for wall, cpu in json.loads(child.stdout.readline())]

    print(f"{model!r} on {images.shape[0]:,} MNIST test images; PyTorch {about['torch']}, {about['threads']} threads")
    print(f"{args.turns} turns of {args.calls} calls a side; milliseconds, min / median")
    clocks = ("wall", "cpu") if args.threads == 1 else ("wall",)
    for operation in OPERATIONS:
        timed(netkit[operation], 3)  # untimed: buffers, thread pools, page faults
        torch_side(operation, 3)
        ours: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        for _ in range(args.turns):
            ours += timed(netkit[operation], args.calls)
            theirs += torch_side(operation, args.calls)
        for column, clock in enumerate(clocks):
            mine = [sample[column] * 1e3 for sample in ours]
            other = [sample[column] * 1e3 for sample in theirs]
            print(
                f"{operation:14s} {clock:4s} netkit {min(mine):6.2f} / {statistics.median(mine):6.2f}   "
                f"PyTorch {min(other):6.2f} / {statistics.median(other):6.2f}   "
                f"netkit / PyTorch {min(mine) / min(other):.2f}"
            )
    child.stdin.close()
    child.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
