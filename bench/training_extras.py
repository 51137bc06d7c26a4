"""What each training extra costs per epoch: schedules, dropout, weight decay, max-norm and augmentation.

    .venv/bin/python bench/training_extras.py [--net seed|800] [--turns N] [--data-dir PATH]

Every variant is a run built the way ``netkit train`` builds it (``netkit.training.run.new_run``) on the real MNIST
training set (no validation split, so only training is timed), in one process. The variants take turns
epoch by epoch, so a busy spell on a shared machine hits them alike; min and median seconds per epoch, and
their ratios to the plain run's, are printed with the load average (trust the min ratio on a busy machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from harness import load_mnist, resolve_data_dir, table

from netkit.training.run import Run, RunRequest, new_run

NETS = {
    "seed": {"layers": [16, 16], "activation": "sigmoid", "batch_size": 32},
    "800": {"layers": [800], "activation": "relu", "batch_size": 32},
}
# (label, changes to the plain request): each adds one extra to the plain run.
VARIANTS: list[tuple[str, dict[str, object]]] = [
    ("plain (mini-batch, lr 0.1)", {}),
    ("momentum (the default recipe's optimiser)", {"optimizer": "momentum"}),
    ("+ schedule exponential:decay=0.7", {"schedule": "exponential:decay=0.7"}),
    ("+ dropout 0.5 after each hidden layer", {"dropout": 0.5}),
    ("+ input dropout 0.2", {"input_dropout": 0.2}),
    ("+ weight decay 1e-4", {"optimizer": "mini-batch:weight_decay=0.0001"}),
    ("+ max-norm 3", {"optimizer": "mini-batch:max_norm=3"}),
    ("+ augment shift,rotate,scale", {"augment": "shift:pixels=2,rotate:degrees=10,scale:amount=0.1"}),
    ("+ augment elastic", {"augment": "elastic"}),
    ("+ augment thicken", {"augment": "thicken"}),
]


def build(net: str, changes: dict[str, object], dataset: object) -> Run:
    shape = NETS[net]
    options: dict[str, object] = {
        "layers": shape["layers"],
        "activation": shape["activation"],
        "output_activation": "softmax",
        "loss": "cross-entropy",
        "optimizer": "mini-batch",
        "batch_size": shape["batch_size"],
        "learning_rate": 0.1,
        "seed": 0,
        "dataset": "mnist",
        "validation": 0,
        "out": Path(os.devnull),
        "format": None,
        **changes,
    }
    return new_run(RunRequest(**options), dataset)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=sorted(NETS), default="seed")
    parser.add_argument("--turns", type=int, default=3, help="timed epochs per variant (default 3)")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    args = parser.parse_args()
    dataset = load_mnist(resolve_data_dir(args.data_dir))
    runs = [(label, build(args.net, changes, dataset)) for label, changes in VARIANTS]
    for _, run in runs:  # one untimed epoch each: buffers, caches and first-call costs
        run.train(1)
    times: dict[str, list[float]] = {label: [] for label, _ in runs}
    load_before = os.getloadavg()[0]
    for _ in range(args.turns):
        for label, run in runs:
            started = time.perf_counter()
            run.train(1)
            times[label].append(time.perf_counter() - started)
    plain = times[runs[0][0]]
    net = "784-" + "-".join(map(str, NETS[args.net]["layers"])) + "-10"  # type: ignore[call-overload]
    rows = []
    for label, values in times.items():
        median = statistics.median(values)
        min_ratio, median_ratio = min(values) / min(plain), median / statistics.median(plain)
        rows.append((label, f"{min(values):.3f}", f"{median:.3f}", f"{min_ratio:.2f}", f"{median_ratio:.2f}"))
    print(f"{net}, batch {NETS[args.net]['batch_size']}: seconds per epoch, {args.turns} turns each")
    print(table(("variant", "min s", "median s", "min / plain min", "median / plain median"), rows))
    print(f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
