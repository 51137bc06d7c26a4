"""Terminal loss charts: whole runs, labelled axes, log scale, and overfitting you can see."""

from __future__ import annotations

import io
import itertools
import re

import numpy as np
from rich.console import Console
from rich.text import Text

from netkit.cli.chart import BRAILLE_BASE, DOT_BITS
from netkit.cli.loss_charts import CHART_INDENT, epoch_chart, iteration_chart
from netkit.training.trainer import EpochRecord


def _records(train: list[float], validation: list[float | None]) -> list[EpochRecord]:
    return [
        EpochRecord(epoch, t, v, None if v is None else 0.9, 0.1, 400_000.0)
        for epoch, (t, v) in enumerate(zip(train, validation, strict=True), start=1)
    ]


def _chart_lines(chart: Text) -> list[str]:
    """The braille lines of a chart (title, x axis and x labels left out), y labels cut off."""
    lines = chart.plain.split("\n")[1:-2]
    return [line[CHART_INDENT:] for line in lines]


def _dots(lines: list[str]) -> np.ndarray:
    """Braille text back to its dot grid (True where a dot is set)."""
    rows, columns = len(lines) * 4, max(len(line) for line in lines) * 2
    grid = np.zeros((rows, columns), dtype=bool)
    for row, line in enumerate(lines):
        for column, character in enumerate(line):
            code = ord(character) - BRAILLE_BASE if character != " " else 0
            for (y, x), bit in np.ndenumerate(DOT_BITS):
                grid[row * 4 + y, column * 2 + x] = bool(code & bit) if 0 <= code < 256 else False
    return grid


def _solid(column: int) -> bool:
    """Whether a dashed line is drawn at this dot column (it leaves out every third pair)."""
    return (column // 2) % 3 != 2


def _top_dot(grid: np.ndarray, column: int) -> int:
    lit = np.flatnonzero(grid[:, column])
    return int(lit[0]) if lit.size else -1


def test_overfitting_shows_as_validation_loss_turning_up_while_training_loss_falls() -> None:
    train = [0.60, 0.40, 0.30, 0.25, 0.21, 0.18, 0.15, 0.13, 0.11, 0.09]
    validation = [0.45, 0.33, 0.27, 0.24, 0.23, 0.235, 0.25, 0.27, 0.30, 0.33]
    chart = epoch_chart(_records(train, validation), width=80, height=8)
    grid = _dots(_chart_lines(chart))
    columns = grid.shape[1]
    best_column = round(4 / 9 * (columns - 1))  # epoch 5, the lowest validation loss
    assert _solid(best_column) and _solid(columns - 1) and _solid(round(2 / 9 * (columns - 1)))
    # Validation is the upper line from epoch 3 on: its top dot falls to the best epoch, then climbs.
    assert _top_dot(grid, best_column) > _top_dot(grid, round(2 / 9 * (columns - 1)))
    assert _top_dot(grid, columns - 1) < _top_dot(grid, best_column) - 4
    # ...while the lowest dot (training) keeps going down.
    bottoms = [int(np.flatnonzero(grid[:, c])[-1]) for c in (0, best_column, columns - 1)]
    assert bottoms == sorted(bottoms) and bottoms[0] < bottoms[-1]
    axis = chart.plain.split("\n")[-2]
    assert axis[CHART_INDENT + best_column // 2] == "▲"
    assert "▲ best 5" in chart.plain and "5 epochs ago" in chart.plain


def test_without_overfitting_the_validation_line_never_climbs() -> None:
    train = [0.6 * 0.8**k for k in range(10)]
    chart = epoch_chart(_records(train, [value * 1.1 for value in train]), width=80, height=8)
    grid = _dots(_chart_lines(chart))
    tops = [_top_dot(grid, column) for column in range(grid.shape[1]) if _solid(column)]
    assert all(later >= earlier for earlier, later in itertools.pairwise(tops))


def test_the_y_axis_is_labelled_with_the_top_and_bottom_values() -> None:
    chart = epoch_chart(_records([2.39, 2.30, 2.21], [2.38, 2.29, 2.22]), width=60, height=6)
    lines = chart.plain.split("\n")
    assert lines[1].lstrip().startswith("2.3900 ┤") and lines[6].lstrip().startswith("2.2100 ┤")
    assert lines[-1].split() == ["1", "epoch", "3"]


def test_a_failing_run_and_a_good_one_have_different_axes() -> None:
    failing = epoch_chart(_records([2.39, 2.21], [2.39, 2.21]), width=60, height=4).plain
    good = epoch_chart(_records([0.60, 0.15], [0.60, 0.15]), width=60, height=4).plain
    assert "2.3900" in failing and "0.1500" in good and failing != good


def test_a_stochastic_epoch_shows_all_its_iterations_and_the_drop() -> None:
    rng = np.random.default_rng(0)
    steps = 54_000
    losses = 0.26 + 2.12 * np.exp(-np.arange(steps) / 3000) * rng.uniform(0.8, 1.2, steps)
    chart = iteration_chart(losses, width=80, height=6, steps_per_epoch=steps)
    lines = chart.plain.split("\n")
    assert lines[-1].split() == ["1", "iteration", "54,000"]
    top, bottom = float(lines[1].split()[0]), float(lines[6].split()[0])
    assert top > 1.5 and bottom < 0.3
    grid = _dots(_chart_lines(chart))
    assert _top_dot(grid, 0) < 4 and _top_dot(grid, grid.shape[1] - 1) > grid.shape[0] - 6


def test_twenty_full_batch_iterations_fill_the_width() -> None:
    losses = np.geomspace(2.39, 0.9, 20)
    chart = iteration_chart(losses, width=60, height=4, steps_per_epoch=1)
    grid = _dots(_chart_lines(chart))
    assert grid.any(axis=0).all()  # a line across the whole chart, not one character
    assert chart.plain.split("\n")[-1].split() == ["1", "iteration", "20"]


def test_a_long_run_keeps_its_first_epochs() -> None:
    train = [2.0 / epoch for epoch in range(1, 81)]
    chart = epoch_chart(_records(train, [None] * 80), width=80, height=6)
    lines = chart.plain.split("\n")
    assert lines[1].lstrip().startswith("2.0000") and lines[-1].split() == ["1", "epoch", "80"]
    assert "best" not in chart.plain  # no validation, nothing to mark


def test_epoch_ticks_mark_the_boundaries_on_the_iteration_axis() -> None:
    chart = iteration_chart(np.linspace(1.0, 0.5, 300), width=60, height=4, steps_per_epoch=100)
    assert chart.plain.split("\n")[-2].count("┴") == 2  # between epochs 1-2 and 2-3


def test_narrow_charts_drop_notes_but_never_cut_numbers() -> None:
    records = _records([0.6023, 0.2502, 0.2138], [0.2937, 0.2577, 0.2388])
    for width in (40, 60, 100):
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, color_system=None)
        console.print(epoch_chart(records, width, 5))
        console.print(iteration_chart(np.linspace(0.9, 0.2, 5000), width, 5, 1688))
        output = buffer.getvalue()
        assert max(len(line) for line in output.splitlines()) <= width, output
        assert "train 0.2138" in output and "val 0.2388" in output
        assert re.search(r"now \d\.\d{4}(\s|$)", output) or width < 60
