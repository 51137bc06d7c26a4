"""The two loss charts of the live view and ``inspect``: loss per iteration and loss per epoch, whole run.

Loss per iteration: every iteration so far, bucketed to the chart's dot columns (each column the mean of
its iterations), epoch boundaries ticked on the x axis. Loss per epoch: train solid, validation dashed,
the epoch with the lowest validation loss marked ``▲``. Both on a log scale by default, so a loss that
keeps falling by ever smaller steps (and a validation loss turning up again) stays visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.text import Text

from netkit.pictures.series import bucket_means, lowest_val_loss
from netkit.training.trainer import EpochRecord

from . import formatting as fmt
from .chart import Mark, Series, columns_from_points, fitted_line, line_chart

Y_LABEL_WIDTH = 7  # fmt.axis_number's widest
CHART_INDENT = Y_LABEL_WIDTH + 2
TRAIN_STYLE = "magenta"
VALIDATION_STYLE = "green"
ITERATION_STYLE = "yellow"
NOTE_STYLE = "bright_black"


def dot_columns(width: int) -> int:
    return max(width - CHART_INDENT, 8) * 2


def iteration_chart(
    losses: np.ndarray[Any, Any], width: int, height: int, steps_per_epoch: int, log: bool = True
) -> Text:
    """``losses`` (every iteration's training loss so far) as a chart ``width`` characters wide."""
    dots = dot_columns(width)
    count = int(losses.size)
    scale = "log" if log else "linear"
    parts = [("loss per iteration", "bold " + ITERATION_STYLE, 0)]
    if count > dots:
        columns = bucket_means(losses, dots)
        parts.append((f" · mean of ~{count / dots:,.0f} per dot", NOTE_STYLE, 1))
        position = dots / count
    else:
        columns = columns_from_points(range(1, count + 1), losses.tolist(), 1, max(count, 2), dots)
        position = (dots - 1) / max(count - 1, 1)
    parts.append((f" · {scale}", NOTE_STYLE, 2))
    if count:
        tail = losses[-max(count // dots, 1) :]
        parts.append((f" · now {fmt.loss(float(np.mean(tail)))}", "bold " + ITERATION_STYLE, 3))
    text = fitted_line(parts, width)
    epochs = count // max(steps_per_epoch, 1)
    ticks = [round(k * steps_per_epoch * position) for k in range(1, epochs)] if 0 < epochs <= dots // 4 else []
    x_labels = ("1" if count else "", "iteration", f"{count:,}" if count else "")
    text.append_text(
        line_chart(
            [Series("loss", columns, ITERATION_STYLE)],
            height,
            fmt.axis_number,
            x_labels,
            log,
            ticks=ticks,
            label_width=Y_LABEL_WIDTH,
        )
    )
    return text


def epoch_chart(records: Sequence[EpochRecord], width: int, height: int, log: bool = True) -> Text:
    """Train (solid) and validation (dashed) loss of every epoch, the lowest validation loss marked."""
    dots = dot_columns(width)
    parts = [("loss per epoch", "bold cyan", 0)]
    if not records:
        return fitted_line([*parts, (" · after the first epoch", NOTE_STYLE, 1)], width)
    epochs = [record.epoch for record in records]
    first, last = epochs[0], epochs[-1]
    train = columns_from_points(epochs, [r.train_loss for r in records], first, last, dots)
    validation = columns_from_points(epochs, [r.val_loss for r in records], first, last, dots)
    series = [Series("train", train, TRAIN_STYLE)]
    parts.append((f" ⠒⠒⠒ train {fmt.loss(records[-1].train_loss)}", TRAIN_STYLE, 0))
    marks: list[Mark] = []
    if np.isfinite(validation).any():
        series.append(Series("validation", validation, VALIDATION_STYLE, dashed=True))
        parts.append((f" ⠒ ⠒ val {fmt.loss(records[-1].val_loss)}", VALIDATION_STYLE, 0))
        best = lowest_val_loss(list(records))
        if best is not None:
            column = round((best.epoch - first) / max(last - first, 1) * (dots - 1)) if last > first else 0
            marks.append(Mark(column, "bold yellow"))
            parts.append((f" ▲ best {best.epoch}", "bold yellow", 0))
            since = last - best.epoch
            if since:
                parts.append((f" ({fmt.plural(since, 'epoch')} ago)", NOTE_STYLE, 2))
    parts.append((f" · {'log' if log else 'linear'}", NOTE_STYLE, 1))
    text = fitted_line(parts, width)
    x_labels = (str(first), "epoch", str(last) if last > first else "")
    text.append_text(line_chart(series, height, fmt.axis_number, x_labels, log, marks=marks, label_width=Y_LABEL_WIDTH))
    return text
