"""Compare training recipes on the networks users compose: the table of docs/recipes.md.

    nice -n 19 .venv/bin/python bench/recipes.py                     # every cell (tens of minutes)
    nice -n 19 .venv/bin/python bench/recipes.py --list              # the command lines
    nice -n 19 .venv/bin/python bench/recipes.py --nets relu-mnist --recipes default,plain
    nice -n 19 .venv/bin/python bench/recipes.py --cache runs.jsonl  # keep each run; rerun only what is missing

Each cell runs ``netkit train NET RECIPE --seed S --json`` in a fresh process for seeds 0-2, one run after
another, and the table shows the test accuracy of the model the file holds (mean ± half the range over the
seeds) and the mean seconds per epoch. The ``default`` recipe passes no optimiser, learning rate or schedule,
so it measures what ``netkit train`` does out of the box; the row's note says which recipe that is. The load
average is printed before and after, since the seconds depend on it. Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

NETKIT = str(Path(sys.executable).with_name("netkit"))

# name -> (description, netkit train arguments that make the network and pick the data and epochs)
NETS: dict[str, tuple[str, str]] = {
    "seed": ("784-16-16-10 sigmoid, MNIST, 5 epochs", "--layers 16,16 --activation sigmoid --epochs 5"),
    "relu-mnist": ("784-64-10 relu, MNIST, 2 epochs", "--layers 64 --activation relu --epochs 2"),
    "relu-fashion": (
        "784-64-10 relu, Fashion-MNIST, 2 epochs",
        "--layers 64 --activation relu --epochs 2 --dataset fashion-mnist",
    ),
    "dropout": (
        "784-128-10 relu + dropout 0.2, Fashion-MNIST, 2 epochs",
        "--layers 128 --activation relu --dropout 0.2 --epochs 2 --dataset fashion-mnist",
    ),
    "conv": (
        "conv 8@5x5 relu, max pool 2, 10; MNIST, 1 epoch",
        "--layer conv2d:filters=8,kernel=5 --layer maxpool2d:size=2 --epochs 1",
    ),
}

# name -> (description, recipe arguments); "default" gives none, so netkit's own choice applies.
RECIPES: dict[str, tuple[str, str]] = {
    "default": ("netkit's default (no --optimizer, --lr, --schedule)", ""),
    "old": (
        "momentum 0.1, batch 32, x0.7 an epoch (the default before)",
        "--optimizer momentum --lr 0.1 --batch-size 32 --schedule exponential:decay=0.7",
    ),
    "plain": ("mini-batch 0.5, batch 32", "--optimizer mini-batch --lr 0.5 --batch-size 32"),
    "keras": ("Adam 1e-3, batch 32 (Keras' default)", "--optimizer adam --lr 0.001 --batch-size 32"),
    "sklearn": ("Adam 1e-3, batch 200 (scikit-learn's MLPClassifier)", "--optimizer adam --lr 0.001 --batch-size 200"),
    "adam-decay": (
        "Adam 3e-3, batch 32, x0.7 an epoch",
        "--optimizer adam --lr 0.003 --batch-size 32 --schedule exponential:decay=0.7",
    ),
    "adam-fast": (
        "Adam 1e-2, batch 32, x0.7 an epoch",
        "--optimizer adam --lr 0.01 --batch-size 32 --schedule exponential:decay=0.7",
    ),
}
SEEDS = (0, 1, 2)


def command(net: str, recipe: str, seed: int, out: Path) -> list[str]:
    arguments = f"{NETS[net][1]} {RECIPES[recipe][1]} --seed {seed} --out {out} --reset --json"
    return [NETKIT, "train", *shlex.split(arguments)]


def run(net: str, recipe: str, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        line = command(net, recipe, seed, Path(folder) / "model.h5")
        done = subprocess.run(line, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {shlex.join(line)}\n{done.stderr}")
    result = json.loads(done.stdout)
    epochs = result["history"]["epochs"]
    return {
        "net": net,
        "recipe": recipe,
        "seed": seed,
        "test_accuracy": result["test_accuracy"],
        "seconds_per_epoch": statistics.mean(epoch["seconds"] for epoch in epochs),
        "warnings": [text for text in done.stderr.splitlines() if "warning" in text],
    }


def default_recipe_of(net: str) -> str:
    """What the default recipe is for ``net``, as ``netkit train --help`` would name it."""
    from netkit.training.defaults import choose_recipe

    arguments = shlex.split(NETS[net][1])
    activation = arguments[arguments.index("--activation") + 1] if "--activation" in arguments else "relu"
    optimizer, learning_rate, schedule = choose_recipe(None, None, None, [activation])
    return f"{optimizer} {learning_rate}" + (f", {schedule}" if schedule else "")


def cell(runs: list[dict[str, Any]]) -> str:
    accuracies = [100 * run["test_accuracy"] for run in runs]
    spread = (max(accuracies) - min(accuracies)) / 2
    return f"{statistics.mean(accuracies):.2f} ± {spread:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nets", default=",".join(NETS), help="comma-separated: " + ", ".join(NETS))
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated: " + ", ".join(RECIPES))
    parser.add_argument("--list", action="store_true", help="print the command lines and stop")
    parser.add_argument("--cache", type=Path, help="a JSON-lines file of finished runs, read and appended to")
    options = parser.parse_args()
    nets, recipes = options.nets.split(","), options.recipes.split(",")
    if options.list:
        for net in nets:
            for recipe in recipes:
                print(shlex.join(command(net, recipe, 0, Path("model.h5"))).replace(NETKIT, "netkit", 1))
        return
    done: list[dict[str, Any]] = []
    if options.cache is not None and options.cache.exists():
        done = [json.loads(line) for line in options.cache.read_text().splitlines() if line.strip()]
    print(f"load average before: {' '.join(f'{value:.2f}' for value in os.getloadavg())}", flush=True)
    for net in nets:
        for recipe in recipes:
            for seed in SEEDS:
                if any(r["net"] == net and r["recipe"] == recipe and r["seed"] == seed for r in done):
                    continue
                result = run(net, recipe, seed)
                done.append(result)
                print(f"  {net} {recipe} seed {seed}: {100 * result['test_accuracy']:.2f}%", file=sys.stderr)
                if options.cache is not None:
                    with options.cache.open("a") as file:
                        file.write(json.dumps(result) + "\n")
    print(f"load average after: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print()
    print("| net | " + " | ".join(recipes) + " |")
    print("|---|" + "---:|" * len(recipes))
    for net in nets:
        cells = []
        for recipe in recipes:
            runs = [r for r in done if r["net"] == net and r["recipe"] == recipe and r["seed"] in SEEDS]
            seconds = statistics.mean(r["seconds_per_epoch"] for r in runs)
            cells.append(f"{cell(runs)} ({seconds:.1f} s)")
        print(f"| {NETS[net][0]} | " + " | ".join(cells) + " |")
    print()
    print("test accuracy in %, mean ± half the range over seeds " + ", ".join(map(str, SEEDS)))
    print("(seconds per epoch, mean); recipes:")
    for recipe in recipes:
        print(f"- {recipe}: {RECIPES[recipe][0]}")
    if "default" in recipes:
        for net in nets:
            print(f"- default for {net}: {default_recipe_of(net)}")


if __name__ == "__main__":
    main()
