"""Inference speed: netkit's ``predict`` / ``predict_proba`` against PyTorch's on the 10,000 MNIST test images.

``.venv/bin/python bench/inference.py [--turns 15] [--calls 5] [--threads N] [--model PATH] [--data-dir PATH]``

Both sides score the same network with the same weights (by default the shipped model); PyTorch
(``softmax(net(x))`` and ``net(x).argmax(1)`` under ``inference_mode``) runs in a child process, and the
two take turns, ``--calls`` calls a side per turn. ``--threads 1`` runs both on one thread and also
reports the calling thread's CPU time, which still measures the work when other processes keep the cores
busy. Details and figures: ``bench/README.md`` ("Inference").
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from harness import LineWorker, load_mnist, resolve_data_dir, table

from netkit.io import load_model
from netkit.pretrained import pretrained_model_path


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
    from torch_side import torch_net

    if threads:
        torch.set_num_threads(threads)
    net = torch_net(load_model(model_path).model, "sigmoid").eval()
    images = torch.from_numpy(load_mnist(resolve_data_dir(data_dir)).test_images)

    def predict_proba() -> object:
        with torch.inference_mode():
            return torch.softmax(net(images), dim=1).numpy()

    def predict() -> object:
        with torch.inference_mode():
            return net(images).argmax(dim=1).numpy()

    functions = {"predict_proba": predict_proba, "predict": predict}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps(timed(functions[request["op"]], request["calls"])), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=15, help="turns per operation (default 15)")
    parser.add_argument("--calls", type=int, default=5, help="calls timed per side in a turn (default 5)")
    parser.add_argument("--threads", type=int, help="threads on each side (default: as each library chooses)")
    parser.add_argument("--model", default=str(pretrained_model_path()), help="a netkit model file")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    parser.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir = str(resolve_data_dir(args.data_dir))
    if args.torch_child:
        return torch_child(args.model, data_dir, args.threads)
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    model = load_model(args.model).model
    activations = {type(getattr(layer, "activation", None)).__name__ for layer in model.layers[:-1]}
    if activations - {"Sigmoid"}:
        raise SystemExit(f"this benchmark mirrors sigmoid hidden layers only, not {sorted(activations)}")
    images = load_mnist(resolve_data_dir(data_dir)).test_images
    netkit: dict[str, Callable[[], Any]] = {
        "predict_proba": lambda: model.predict_proba(images),
        "predict": lambda: model.predict(images),
    }
    command = [sys.executable, __file__, "--torch-child", "--model", args.model, "--data-dir", data_dir]
    child = LineWorker(command + (["--threads", str(args.threads)] if args.threads else []), settle=0.0)
    about = child.info
    print(f"{model!r} on {images.shape[0]:,} MNIST test images; PyTorch {about['torch']}, {about['threads']} threads")
    print(f"{args.turns} turns of {args.calls} calls a side; milliseconds, min / median")
    rows = []
    for operation in netkit:
        timed(netkit[operation], 3)  # untimed: buffers, thread pools, page faults
        child.request(op=operation, calls=3)
        ours: list[list[float]] = []
        theirs: list[list[float]] = []
        for _ in range(args.turns):
            ours += timed(netkit[operation], args.calls)
            theirs += child.request(op=operation, calls=args.calls)
        for column, clock in enumerate(("wall", "cpu") if args.threads == 1 else ("wall",)):
            mine, other = ([sample[column] * 1e3 for sample in side] for side in (ours, theirs))
            rows.append([operation, clock, f"{min(mine):.2f} / {statistics.median(mine):.2f}"])
            rows[-1] += [f"{min(other):.2f} / {statistics.median(other):.2f}", f"{min(mine) / min(other):.2f}"]
    print(table(["operation", "clock", "netkit", "PyTorch", "netkit / PyTorch"], rows, left=2))
    child.__exit__()
    return 0


if __name__ == "__main__":
    sys.exit(main())
