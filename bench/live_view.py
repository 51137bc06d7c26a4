"""What the live training view costs: its share of real runs, and one chart redraw against plotext's.

    NETKIT_DATA=../shared/data .venv/bin/python bench/live_view.py [--plotext]

Each run trains on the real MNIST training set (54,000 rows after the validation split) with the live view
drawing into a 100x40 terminal-like console that writes to /dev/null, and prints the view's own time (every
redraw and epoch line) as a share of the run. ``--plotext`` also times plotext (``pip install plotext``;
never a netkit dependency) building the same per-iteration chart. Figures and why: ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from harness import repeat, table
from rich.console import Console
from rich.text import Text

from netkit.cli.epoch_table import EpochTable, epoch_columns
from netkit.cli.live import LiveView
from netkit.cli.loss_charts import epoch_chart, iteration_chart
from netkit.data import split_validation
from netkit.model.network import Network
from netkit.registry import default_registry
from netkit.training.trainer import EpochRecord, Trainer

SEED_NET = ["dense:units=16,activation=sigmoid"] * 2 + ["dense:units=10,activation=softmax"]
RUNS = {
    "seed net, mini-batch 32, 5 epochs": ({"type": "mini-batch"}, 5),
    "seed net, stochastic, 1 epoch": ({"type": "stochastic"}, 1),
    "seed net, full-batch, 20 epochs": ({"type": "full-batch"}, 20),
}


def _console() -> Console:
    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (kept open for the run)
    return Console(file=sink, force_terminal=True, width=100, height=40, color_system="truecolor")


def measure_run(
    name: str, images: np.ndarray, labels: np.ndarray, validation: tuple[np.ndarray, np.ndarray]
) -> list[str]:
    optimizer_spec, epochs = RUNS[name]
    model = Network(784, SEED_NET, "cross-entropy", np.random.default_rng([0, 0]))
    trainer = Trainer(model, default_registry().create("optimizers", optimizer_spec), np.random.default_rng([0, 2]))
    view = LiveView(_console(), Text("bench"))
    started = time.perf_counter()
    with view:
        trainer.fit(images, labels, epochs, validation, [view])
        view.finish(Text("done"))
    wall = time.perf_counter() - started
    each = 1000 * view.refresh_seconds / max(view.refreshes, 1)
    return [name, f"{wall:.2f}", str(view.refreshes), f"{each:.2f}", f"{100 * view.refresh_seconds / wall:.2f}%"]


def _best_of(repeats: int, work: Callable[[], object]) -> float:
    return float(repeat(work, repeats)["min"])  # the quietest call: what a chart costs, not the machine's load


def measure_charts(use_plotext: bool) -> list[list[str]]:
    rng = np.random.default_rng(0)
    losses = 0.2 + 2.2 * np.exp(-np.arange(135_000) / 9000) * rng.uniform(0.7, 1.3, 135_000)  # 80 epochs
    records = [EpochRecord(e, 0.6 / e, 0.3 / e**0.5, 0.9, 0.1, 4e5) for e in range(1, 81)]
    console = _console()
    chart = _best_of(50, lambda: iteration_chart(losses, 100, 7, 1688))
    epochs = _best_of(50, lambda: epoch_chart(records, 100, 7))
    written = _best_of(50, lambda: console.print(iteration_chart(losses, 100, 7, 1688)))
    line = EpochTable(epoch_columns(80, lambda record: True), 100)
    row = _best_of(200, lambda: console.print(line.row(records[11])))
    rows = [
        ["netkit iteration chart, 135,000 losses, 100x7, build", f"{1000 * chart:.2f}", ""],
        ["  the same, built and written by rich", f"{1000 * written:.2f}", ""],
        ["netkit epoch chart, 80 epochs, 100x7, build", f"{1000 * epochs:.2f}", ""],
        ["one epoch line (a rich.Table), built and written", f"{1000 * row:.2f}", ""],
    ]
    if not use_plotext:
        return rows
    import plotext  # type: ignore[import-not-found]

    def plotext_chart(x: list[float], y: list[float]) -> None:
        figure = plotext.figure
        figure.clear()
        plotext.terminal.limit(False, False)
        figure.plot_size(100, 10)
        figure.draw(figure.signal(x, y, marker="braille"))
        figure.ruler("y").scale("log")
        Text.from_ansi(figure.build().string())

    every_x, every_y = list(range(135_000)), losses.tolist()
    means = losses[: 135_000 // 182 * 182].reshape(182, -1).mean(axis=1).tolist()  # the same 182 bucket means
    every = _best_of(3, lambda: plotext_chart(every_x, every_y))
    bucketed = _best_of(20, lambda: plotext_chart(list(range(182)), means))
    rows.append(["plotext, all 135,000 points, 100x10, build", f"{1000 * every:.2f}", f"{every / chart:.0f}x"])
    rows.append(["plotext, the same 182 bucket means, 100x10", f"{1000 * bucketed:.2f}", f"{bucketed / chart:.1f}x"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plotext", action="store_true", help="also time plotext (pip install plotext)")
    parser.add_argument("--only-charts", action="store_true", help="skip the training runs")
    args = parser.parse_args()
    print(table(["chart", "best ms", "vs netkit"], measure_charts(args.plotext)))
    if args.only_charts:
        return
    root = Path(os.environ.get("NETKIT_DATA", "../shared/data")) / "mnist"
    if not root.is_dir():
        sys.exit(f"no MNIST in {root}: set NETKIT_DATA")
    dataset = default_registry().create("datasets", "mnist").load(data_dir=root, download=False)
    split = split_validation(dataset.train_images, dataset.train_labels, 0.1, np.random.default_rng([0, 1]))
    validation = (split.validation_images, split.validation_labels)
    runs = [measure_run(name, split.train_images, split.train_labels, validation) for name in RUNS]
    print(table(["run", "wall s", "redraws", "ms each", "view's share"], runs))


if __name__ == "__main__":
    main()
