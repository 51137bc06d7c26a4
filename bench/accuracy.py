"""Reproduce the README's MNIST accuracy table: one ``netkit train`` command line per row.

    .venv/bin/python bench/accuracy.py --list          # the command lines
    .venv/bin/python bench/accuracy.py 2               # row 2 alone
    .venv/bin/python bench/accuracy.py                 # every row, one after the other (hours: rows 6-9 are conv nets)

Each row runs ``netkit train ... --json`` in a fresh process (rows never share a core), then prints epochs,
wall time, seconds per epoch, the test accuracy of the model the file holds, the row's target and the
published figure beside it. ``--json PATH`` also writes every figure. Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NETKIT = str(Path(sys.executable).with_name("netkit"))

# (net, recipe arguments, target test accuracy, published figure and source)
ROWS: list[tuple[str, str, float, str]] = [
    (
        "784-16-16-10 sigmoid (the original program's), shipped recipe",
        "--layers 16,16 --optimizer adam --lr 0.003 --schedule cosine --epochs 40 "
        "--augment shift:pixels=1,rotate:degrees=8,scale:amount=0.08,thicken:amount=0.5",
        0.960,
        "~96% (3Blue1Brown's figure for this net)",
    ),
    (
        "784-300-10",
        "--layers 300 --activation relu --optimizer momentum --lr 0.05 --schedule cosine --epochs 20",
        0.980,
        "95.3% (LeCun et al. 1998, MSE)",
    ),
    (
        "784-800-10 cross-entropy",
        "--layers 800 --activation relu --optimizer momentum --lr 0.1 --batch-size 128 --input-dropout 0.2 "
        "--dropout 0.5 --schedule cosine --epochs 40",
        0.985,
        "98.4% (Simard et al. 2003)",
    ),
    (
        "784-800-800-10 relu + dropout",
        "--layers 800,800 --activation relu --optimizer momentum:max_norm=3 --lr 0.1 --batch-size 128 "
        "--input-dropout 0.1 --dropout 0.3 --schedule cosine --epochs 100 --validation 0",
        0.988,
        "~98.7-98.9% (Srivastava et al. 2014, dropout MLPs)",
    ),
    (
        "784-800-10 + affine augmentation",
        "--layers 800 --activation relu --optimizer momentum --lr 0.1 --batch-size 128 --schedule cosine "
        "--epochs 60 --augment shift:pixels=2,rotate:degrees=10,scale:amount=0.1",
        0.990,
        "98.9% (Simard et al. 2003, affine distortions)",
    ),
    (
        "LeNet-5 (conv 6@5x5 same, pool 2, conv 16@5x5, pool 2, 120, 84; relu)",
        "--layer conv2d:filters=6,kernel=5,padding=same,activation=relu --layer maxpool2d:size=2 "
        "--layer conv2d:filters=16,kernel=5,activation=relu --layer maxpool2d:size=2 "
        "--layer dense:units=120,activation=relu --layer dense:units=84,activation=relu "
        "--optimizer momentum --lr 0.05 --batch-size 64 --schedule cosine --epochs 10 --validation 0",
        0.990,
        "99.05% (LeCun et al. 1998, LeNet-5)",
    ),
    (
        "2-conv relu (20@5x5, 50@5x5, 500) + augmentation + dropout",
        "--layer conv2d:filters=20,kernel=5 --layer maxpool2d:size=2 --layer conv2d:filters=50,kernel=5 "
        "--layer maxpool2d:size=2 --layer dense:units=500,activation=relu --layer dropout:rate=0.5 "
        "--optimizer momentum --lr 0.05 --batch-size 64 --schedule cosine --epochs 20 "
        "--augment shift:pixels=2,rotate:degrees=10,scale:amount=0.1 --validation 0",
        0.994,
        "99.37-99.60% (Nielsen 2015, ch. 6: expanded data, then dropout)",
    ),
    (
        "Fashion-MNIST: conv 16@5x5 same, pool 2, conv 32@5x5, pool 2, 128, dropout 0.3",
        "--dataset fashion-mnist --layer conv2d:filters=16,kernel=5,padding=same --layer maxpool2d:size=2 "
        "--layer conv2d:filters=32,kernel=5 --layer maxpool2d:size=2 --layer dense:units=128,activation=relu "
        "--layer dropout:rate=0.3 --optimizer momentum --lr 0.05 --batch-size 64 --schedule cosine --epochs 10 "
        "--validation 0",
        0.900,
        "89.7% (Xiao et al. 2017, the best scikit-learn classifier)",
    ),
    (
        "shipped cnn: conv 8@5x5 same, pool 2, conv 16@5x5, pool 2, 64; relu; augmentation with thicken",
        "--layer conv2d:filters=8,kernel=5,padding=same,activation=relu --layer maxpool2d:size=2 "
        "--layer conv2d:filters=16,kernel=5,activation=relu --layer maxpool2d:size=2 "
        "--layer dense:units=64,activation=relu --optimizer momentum --lr 0.05 --batch-size 64 --schedule cosine "
        "--epochs 12 --augment shift:pixels=2,rotate:degrees=10,scale:amount=0.1,thicken:amount=0.5",
        0.990,
        "99.05% (LeCun et al. 1998, LeNet-5, with twice the parameters)",
    ),
]


def command(row: int, out: Path) -> list[str]:
    _, recipe, _, _ = ROWS[row - 1]
    return [NETKIT, "train", *shlex.split(recipe), "--out", str(out), "--reset", "--json"]


def run_row(row: int, folder: Path) -> dict[str, Any]:
    net, recipe, target, published = ROWS[row - 1]
    argv = command(row, folder / f"row{row}.h5")
    started = time.perf_counter()
    completed = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"row {row} failed ({completed.returncode}): {completed.stderr.strip()}")
    result = json.loads(completed.stdout)
    epochs = result["history"]["epochs"]
    return {
        "row": row,
        "net": net,
        "command": "netkit train " + recipe,
        "epochs": len(epochs),
        "held_epoch": result.get("held_epoch"),
        "wall_seconds": wall,
        "seconds_per_epoch": sum(epoch["seconds"] for epoch in epochs) / len(epochs),
        "test_accuracy": result["test_accuracy"],
        "target": target,
        "reached": result["test_accuracy"] >= target,
        "published": published,
        "load_average": os.getloadavg()[0],
    }


def print_row(figures: dict[str, Any]) -> None:
    print(
        f"| {figures['net']} | {figures['epochs']} | {figures['wall_seconds']:.0f} s | "
        f"{figures['seconds_per_epoch']:.2f} | **{100 * figures['test_accuracy']:.2f}%** | "
        f"≥ {100 * figures['target']:.1f}% {'yes' if figures['reached'] else 'NO'} | {figures['published']} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rows", nargs="*", type=int, help=f"row numbers (1-{len(ROWS)}); all rows without")
    parser.add_argument("--list", action="store_true", help="print the command lines and exit")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    rows = args.rows or list(range(1, len(ROWS) + 1))
    for row in rows:
        if not 1 <= row <= len(ROWS):
            parser.error(f"row {row} does not exist; rows are 1 to {len(ROWS)}")
    if args.list:
        for row in rows:
            print(f"{row}: netkit train {ROWS[row - 1][1]}")
        return
    print("| net | epochs | wall | s/epoch | test accuracy | target | published |")
    print("|---|---|---|---|---|---|---|")
    results = []
    with tempfile.TemporaryDirectory(prefix="netkit-accuracy-") as folder:
        for row in rows:
            figures = run_row(row, Path(folder))
            print_row(figures)
            results.append(figures)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
