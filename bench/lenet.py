"""LeNet-5 on MNIST, netkit against PyTorch CPU in one run: seconds per epoch, inference, the textbook twin,
and peak memory at two batch sizes.

How to run::

    NETKIT_DATA=/path/to/data .venv/bin/python bench/lenet.py [--epochs 2] [--threads 2] [--rows 60000]

The net is the issue's LeNet-5 (conv 6@5x5 same, max pool 2, conv 16@5x5 valid, max pool 2, dense 120, 84,
10; ReLU; softmax and cross-entropy), trained with SGD and momentum 0.9, learning rate 0.05, batch 64, from
the same initial weights in both libraries (netkit's, copied into the PyTorch module). PyTorch runs in its
own process (``--worker``) so that its OpenMP threads never share a process with NumPy's BLAS threads; the
two take turns epoch by epoch, so a change in the machine's load touches both, and the ratio is taken
within each turn. PyTorch uses ``--threads`` threads; netkit's trainer picks its own BLAS threads by the
size of a step (rows x parameters, :func:`netkit.backend.single_threaded`), which is one for LeNet-5 at
batch 64, and otherwise ``--threads``. Then:

- inference on the 10,000 test images (netkit's ``predict_proba``, PyTorch's ``no_grad`` forward at 1,024 a
  batch, netkit's chunk size), in turns as well;
- the textbook twin (``netkit train --textbook``'s forms): one training step at batch 64, timed, beside a
  fast step, to say how slow reading-form code is;
- peak memory: for each library and batch size (64, 256), a fresh process trains 30 steps on 4,096 images
  and reports its peak resident memory above what it held after loading the data and building the net; and
  a fresh process predicts the 10,000 test images (as timed above) and reports the same. netkit's
  convolutions keep each im2col column matrix within ``convolution_kernels.COLUMN_BYTES`` (64 MiB) at any
  batch size, slicing larger batches.

The load average is printed before and after: on a shared machine every figure moves with it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SPECS = [
    "conv2d:filters=6,kernel=5,padding=same,activation=relu",
    "maxpool2d:size=2",
    "conv2d:filters=16,kernel=5,activation=relu",
    "maxpool2d:size=2",
    "dense:units=120,activation=relu",
    "dense:units=84,activation=relu",
    "dense:units=10,activation=softmax",
]
BATCH, LEARNING_RATE, MOMENTUM, SEED = 64, 0.05, 0.9, 0
INFERENCE_CHUNK = 1024


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def netkit_model(textbook: bool = False) -> Any:
    from netkit.model.network import Network
    from netkit.registry import default_registry

    registry = default_registry().textbook_form() if textbook else default_registry()
    return Network((1, 28, 28), SPECS, "cross-entropy", np.random.default_rng(SEED), registry)


def mnist(rows: int) -> tuple[np.ndarray[Any, Any], ...]:
    from netkit.datasets import load

    data = load("mnist")
    shape = (-1, 1, 28, 28)
    return (
        data.train_images[:rows].reshape(shape),
        data.train_labels[:rows],
        data.test_images.reshape(shape),
        data.test_labels,
    )


def netkit_trainer(model: Any, batch: int = BATCH) -> Any:
    from netkit.registry import default_registry
    from netkit.training.trainer import Trainer

    optimizer = default_registry().create(
        "optimizers", {"type": "momentum", "batch_size": batch, "learning_rate": LEARNING_RATE, "beta": MOMENTUM}
    )
    return Trainer(model, optimizer, np.random.default_rng(SEED))


# --- the PyTorch side, in its own process --------------------------------------------------------------------


def torch_net(model: Any) -> Any:
    """The netkit model's architecture and weights as a PyTorch module (softmax left to the loss)."""
    import torch
    from torch import nn

    modules: list[Any] = []
    dense_seen = 0
    for layer, views in zip(model.layers, model.parameter_views, strict=True):
        name = layer.describe()
        if name.startswith("conv2d"):
            kh, kw, channels, filters = views["kernel"].shape
            conv = nn.Conv2d(channels, filters, (kh, kw), padding="same" if layer.padding == "same" else 0)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(views["kernel"].transpose(3, 2, 0, 1).copy()))
                conv.bias.copy_(torch.from_numpy(views["bias"].copy()))
            modules += [conv, nn.ReLU()]
        elif name.startswith("maxpool2d"):
            modules.append(nn.MaxPool2d(layer.size))
        elif name == "flatten":
            modules.append(nn.Flatten())
        else:
            linear = nn.Linear(*views["weight"].shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(views["weight"].T.copy()))
                linear.bias.copy_(torch.from_numpy(views["bias"].copy()))
            modules.append(linear)
            dense_seen += 1
            if dense_seen < 3:
                modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def worker(threads: int, rows: int) -> None:
    """Answer one JSON request per stdin line: ``epoch``, ``inference`` or ``memory``."""
    import torch
    from torch.nn import functional

    torch.set_num_threads(threads)
    images, labels, test_images, _ = mnist(rows)
    net = torch_net(netkit_model()).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))
    test = torch.from_numpy(test_images)
    generator = torch.Generator().manual_seed(SEED)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        if request["do"] == "epoch":
            order = torch.randperm(len(x_all), generator=generator)
            total = 0.0
            for start in range(0, len(x_all), BATCH):
                rows_ = order[start : start + BATCH]
                optimizer.zero_grad(set_to_none=True)
                loss = functional.cross_entropy(net(x_all[rows_]), y_all[rows_])
                loss.backward()
                optimizer.step()
                total += loss.item()
            answer: dict[str, Any] = {"loss": total / -(-len(x_all) // BATCH)}
        else:
            with torch.no_grad():
                net.eval()
                for start in range(0, len(test), INFERENCE_CHUNK):
                    functional.softmax(net(test[start : start + INFERENCE_CHUNK]), dim=1)
                net.train()
            answer = {}
        answer["seconds"] = time.perf_counter() - started
        print(json.dumps(answer), flush=True)


def peak_resident_kb() -> int:
    """The process's peak resident memory so far (VmHWM), in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak() -> None:
    """Start the peak afresh from the current resident memory (Linux: 5 > /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def predict_memory_probe(library: str, threads: int) -> None:
    """Peak resident memory of predicting the 10,000 test images beyond what the process held before (kB)."""
    _, _, test_images, _ = mnist(1)
    test_images = test_images.copy()
    gc.collect()
    model = netkit_model()
    if library == "torch":
        import torch
        from torch.nn import functional

        torch.set_num_threads(threads)
        net = torch_net(model).eval()
        test = torch.from_numpy(test_images)
        reset_peak()
        before = peak_resident_kb()
        with torch.no_grad():
            for start in range(0, len(test), INFERENCE_CHUNK):
                functional.softmax(net(test[start : start + INFERENCE_CHUNK]), dim=1)
    else:
        reset_peak()
        before = peak_resident_kb()
        model.predict_proba(test_images)
    print(peak_resident_kb() - before)


def memory_probe(library: str, batch: int, threads: int) -> None:
    """Peak resident memory of 30 training steps beyond what the process held before them (kB, printed)."""
    images, labels, _, _ = mnist(4096)
    images, labels = images.copy(), labels.copy()  # the rest of the data set can go
    gc.collect()
    model = netkit_model()
    if library == "torch":
        import torch
        from torch.nn import functional

        torch.set_num_threads(threads)
        net = torch_net(model).train()
        optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        x, y = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))
        reset_peak()
        before = peak_resident_kb()
        for step in range(30):
            start = (step * batch) % (4096 - batch)
            optimizer.zero_grad(set_to_none=True)
            functional.cross_entropy(net(x[start : start + batch]), y[start : start + batch]).backward()
            optimizer.step()
    else:
        trainer = netkit_trainer(model, batch)
        picked = np.resize(np.arange(4096), 30 * batch)
        train_images, train_labels = images[picked], labels[picked]
        del images
        gc.collect()
        reset_peak()
        before = peak_resident_kb()
        trainer.fit(train_images, train_labels, 1)
    print(peak_resident_kb() - before)


# --- the run -------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2, help="epochs each (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default 2)")
    parser.add_argument("--rows", type=int, default=60_000, help="training images per epoch (default 60,000)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory", nargs=2, metavar=("LIBRARY", "BATCH"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    from threadpoolctl import threadpool_limits

    from netkit.backend import single_threaded

    if arguments.worker:
        worker(arguments.threads, arguments.rows)
        return
    if arguments.memory:
        library, what = arguments.memory
        with threadpool_limits(arguments.threads, "blas"):
            if what == "predict":
                predict_memory_probe(library, arguments.threads)
            else:
                memory_probe(library, int(what), arguments.threads)
        return
    here = [sys.executable, __file__, "--threads", str(arguments.threads)]
    print(f"load average before: {load_average()}")
    images, labels, test_images, _ = mnist(arguments.rows)
    torch_side = subprocess.Popen(
        [*here, "--rows", str(arguments.rows), "--worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert torch_side.stdin is not None and torch_side.stdout is not None
    work = BATCH * netkit_model().parameter_count
    netkit_threads = 1 if single_threaded(work) else arguments.threads
    print(f"PyTorch {json.loads(torch_side.stdout.readline())}; netkit's training on {netkit_threads} BLAS thread(s)")

    def ask(what: str) -> dict[str, Any]:
        assert torch_side.stdin is not None and torch_side.stdout is not None
        torch_side.stdin.write(json.dumps({"do": what}) + "\n")
        torch_side.stdin.flush()
        answer: dict[str, Any] = json.loads(torch_side.stdout.readline())
        return answer

    model = netkit_model()
    trainer = netkit_trainer(model)
    print(f"LeNet-5 at batch {BATCH} on {arguments.rows:,} images: seconds per epoch")
    print(f"{'epoch':>5} {'netkit':>8} {'torch':>8} {'ratio':>6}  {'netkit loss':>11} {'torch loss':>10}  load")
    ratios = []
    with threadpool_limits(arguments.threads, "blas"):
        for epoch in range(1, arguments.epochs + 1):
            trainer.fit(images, labels, 1)
            ours = trainer.history.epochs[-1]
            theirs = ask("epoch")
            ratios.append(ours.seconds / theirs["seconds"])
            print(
                f"{epoch:5} {ours.seconds:8.2f} {theirs['seconds']:8.2f} {ratios[-1]:6.2f}  "
                f"{ours.train_loss:11.4f} {theirs['loss']:10.4f}  {load_average()}",
                flush=True,
            )
        inference = []
        for _ in range(3):
            started = time.perf_counter()
            model.predict_proba(test_images)
            inference.append((time.perf_counter() - started, ask("inference")["seconds"]))
        best = min(inference, key=lambda pair: pair[0] / pair[1])
        print(
            f"inference on 10,000 test images: netkit {best[0]:.3f} s, torch {best[1]:.3f} s, ratio "
            f"{best[0] / best[1]:.2f} (best of 3 turns; median ratio "
            f"{statistics.median(a / b for a, b in inference):.2f})"
        )
        torch_side.stdin.close()
        torch_side.wait()
        step_times = {}
        for name, textbook in (("fast", False), ("textbook", True)):
            twin = netkit_model(textbook)
            twin_trainer = netkit_trainer(twin)
            started = time.perf_counter()
            twin_trainer.fit(images[: 4 * BATCH], labels[: 4 * BATCH], 1)
            step_times[name] = (time.perf_counter() - started) / 4
        print(
            f"one training step at batch {BATCH}: fast {1e3 * step_times['fast']:.1f} ms, textbook "
            f"{1e3 * step_times['textbook']:.0f} ms ({step_times['textbook'] / step_times['fast']:.0f}x slower; "
            f"a textbook epoch would take about {step_times['textbook'] * arguments.rows / BATCH / 60:.0f} min)"
        )
    print(f"epoch ratio netkit / torch: median {statistics.median(ratios):.2f}, min {min(ratios):.2f}")
    print("peak memory above the loaded data (MB), each in a fresh process:")
    for what, label in (("64", "training, batch 64"), ("256", "training, batch 256"), ("predict", "predicting 10,000")):
        figures = []
        for library in ("netkit", "torch"):
            probe = subprocess.run([*here, "--memory", library, what], capture_output=True, text=True, check=True)
            figures.append(f"{library} {int(probe.stdout.split()[-1]) / 1024:.1f}")
        print(f"  {label}: {', '.join(figures)}")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
