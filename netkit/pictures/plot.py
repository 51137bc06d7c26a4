"""The training curves of a history as a figure: loss per epoch (train, validation) over the loss per
iteration, on a log scale, with axes, a legend and the epoch of lowest validation loss marked.

Told apart by more than colour: training is a solid line with round markers, validation a dashed line
with square markers, the per-iteration loss a thin grey line behind them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from netkit.pictures.canvas import Box, Dot, Figure, Label, Line, Point, text_width
from netkit.pictures.colours import NEGATIVE, POSITIVE, hex_colour
from netkit.pictures.series import bucket_means, linear_ticks, log_ticks, lowest_val_loss
from netkit.training.trainer import History

WIDTH, HEIGHT = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 84, 56  # margins around the plotting area
TRAIN_COLOUR = hex_colour(NEGATIVE)
VALIDATION_COLOUR = hex_colour(POSITIVE)
ITERATION_COLOUR = "#B8B8B8"
GRID_COLOUR = "#E4E4E4"
AXIS_COLOUR = "#444444"
BEST_COLOUR = "#222222"


def loss_plot(history: History, title: str, subtitle: str = "") -> Figure:
    """Raises ``ValueError`` for a history without epochs (there is nothing to plot)."""
    records = history.epochs
    if not records:
        raise ValueError("the history has no epochs to plot")
    figure = Figure(WIDTH, HEIGHT)
    figure.add(Label((LEFT, 14), title, size=16, colour="#111111"))
    if subtitle:
        figure.add(Label((LEFT, 36), subtitle, size=12, colour="#555555"))
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    epochs = len(records)
    first_epoch = records[0].epoch - 1  # x runs from the start of the first epoch shown
    last_epoch = records[-1].epoch
    iterations = np.asarray(history.iteration_loss, dtype=np.float64)
    values = [r.train_loss for r in records] + [r.val_loss for r in records if r.val_loss is not None]
    if iterations.size:
        iteration_line = bucket_means(iterations, int(right - left))
        values += iteration_line[np.isfinite(iteration_line)].tolist()
    positive = [v for v in values if math.isfinite(v) and v > 0]
    low, high = (min(positive), max(positive)) if positive else (0.1, 1.0)
    if high <= low * 1.05:
        low, high = low / 1.5, high * 1.5
    log_low, log_high = math.log(low) - 0.04 * math.log(high / low), math.log(high) + 0.04 * math.log(high / low)

    def x_of(epoch: float) -> float:
        return left + (epoch - first_epoch) / max(last_epoch - first_epoch, 1) * (right - left)

    def y_of(value: float) -> float:
        return bottom - (math.log(value) - log_low) / (log_high - log_low) * (bottom - top)

    _axes(figure, left, right, top, bottom, math.exp(log_low), math.exp(log_high), first_epoch, last_epoch, x_of, y_of)
    if iterations.size:
        # Iteration i (1-based) ends at epoch first + i / steps; bucket j sits at its centre.
        steps = iterations.size / max(last_epoch - first_epoch, 1)
        count = iteration_line.size
        span = iterations.size / count
        points = [
            (x_of(first_epoch + (j + 0.5) * span / steps), y_of(v))
            for j, v in enumerate(iteration_line.tolist())
            if v > 0 and math.isfinite(v)
        ]
        figure.add(Line(tuple(points), ITERATION_COLOUR, 1.0))
    train = [(x_of(r.epoch), y_of(r.train_loss)) for r in records if r.train_loss > 0]
    figure.add(Line(tuple(train), TRAIN_COLOUR, 2.5))
    validation = [(x_of(r.epoch), y_of(r.val_loss)) for r in records if r.val_loss is not None and r.val_loss > 0]
    if validation:
        figure.add(Line(tuple(validation), VALIDATION_COLOUR, 2.5, dash=(9.0, 5.0)))
    marker = 3.5 if epochs <= 40 else 2.0
    for point in train:
        figure.add(Dot(point, marker, TRAIN_COLOUR))
    for point in validation:
        figure.add(Dot(point, marker, VALIDATION_COLOUR, square=True))
    best = lowest_val_loss(records)
    if best is not None and best.val_loss is not None:
        x = x_of(best.epoch)
        figure.add(Line(((x, top), (x, bottom)), BEST_COLOUR, 1.0, dash=(2.0, 3.0)))
        figure.add(Dot((x, y_of(best.val_loss)), marker + 2.5, BEST_COLOUR, square=True))
        note = f"best epoch {best.epoch}: lowest val loss {best.val_loss:.4f}"
        anchor = "rs" if x > (left + right) / 2 else "ls"
        figure.add(Label((x + 6 if anchor == "rs" else x - 6, top - 6), note, size=12, anchor=anchor))
    _legend(figure, right, bool(validation), bool(iterations.size), best is not None)
    return figure


def _axes(
    figure: Figure,
    left: float,
    right: float,
    top: float,
    bottom: float,
    low: float,
    high: float,
    first_epoch: int,
    last_epoch: int,
    x_of: Callable[[float], float],
    y_of: Callable[[float], float],
) -> None:
    for value in log_ticks(low, high) or [low, high]:
        y = y_of(value)
        figure.add(Line(((left, y), (right, y)), GRID_COLOUR, 1.0))
        figure.add(Label((left - 8, y), f"{value:g}", size=12, colour=AXIS_COLOUR, anchor="rm"))
    ticks = [tick for tick in linear_ticks(first_epoch, last_epoch, 10) if tick == int(tick)]
    for tick in ticks:
        x = x_of(tick)
        figure.add(Line(((x, bottom), (x, bottom + 5)), AXIS_COLOUR, 1.0))
        figure.add(Label((x, bottom + 8), f"{int(tick)}", size=12, colour=AXIS_COLOUR, anchor="ma"))
    figure.add(Line(((left, top), (left, bottom), (right, bottom)), AXIS_COLOUR, 1.0))
    figure.add(Label(((left + right) / 2, bottom + 28), "epoch", size=13, colour=AXIS_COLOUR, anchor="ma"))
    middle = (top + bottom) / 2
    figure.add(Label((18, middle), "loss (log scale)", size=13, colour=AXIS_COLOUR, vertical=True))


def _legend(figure: Figure, right: float, validation: bool, iterations: bool, best: bool) -> None:
    entries: list[tuple[str, str, tuple[float, float] | None, bool | None]] = [
        ("train loss (epoch mean)", TRAIN_COLOUR, None, False)
    ]
    if validation:
        entries.append(("validation loss", VALIDATION_COLOUR, (9.0, 5.0), True))
    if iterations:
        entries.append(("loss per iteration (bucket means)", ITERATION_COLOUR, None, None))
    if best:
        entries.append(("lowest validation loss", BEST_COLOUR, (2.0, 3.0), True))
    size, row = 12, 18
    # 15% to spare: an SVG viewer may use a wider font than the one measured here.
    width = 1.15 * max(text_width(text, size) for text, _, _, _ in entries) + 52
    x0, y0 = right - width - 8, TOP + 8  # top right: losses fall, so it is usually empty
    figure.add(Box((x0, y0), (width, row * len(entries) + 8), fill="#FFFFFF", outline="#CCCCCC"))
    for index, (text, colour, dash, square) in enumerate(entries):
        y = y0 + 4 + row * index + row / 2
        sample: tuple[Point, ...] = ((x0 + 8, y), (x0 + 38, y))
        figure.add(Line(sample, colour, 2.5 if square is not None else 1.0, dash=dash))
        if square is not None:
            figure.add(Dot((x0 + 23, y), 3.5, colour, square=square))
        figure.add(Label((x0 + 46, y), text, size=size, anchor="lm"))
