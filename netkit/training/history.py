"""A training history as NumPy arrays, one value per epoch, for notebooks and scripts.

The :class:`~netkit.training.trainer.History` a trainer keeps grows record by record; this is a snapshot of it
whose arrays belong to the caller. Epochs without a validation set show NaN for their validation values.
"""

from __future__ import annotations

import html
import math
from typing import Any

import attrs
import numpy as np

from netkit.training.trainer import History

FloatColumn = np.ndarray[Any, np.dtype[np.float64]]
IntColumn = np.ndarray[Any, np.dtype[np.int64]]


COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.2%}"


def _column(values: list[float | None]) -> FloatColumn:
    return np.array([math.nan if value is None else value for value in values], dtype=np.float64)


@attrs.frozen(eq=False)
class TrainingHistory:
    """``epoch``, ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``seconds``, ``samples_per_second``
    and ``learning_rate`` (the rate each epoch stepped with) per epoch, and ``iteration_loss`` per training
    batch. As in Keras, ``loss`` and ``accuracy`` are the training set's: the running mean over each epoch's
    batches, in training mode. NaN marks what was not measured (no validation set, an older file).

    :attr:`history` gives the same as Keras' ``History.history``: a dict of lists keyed ``loss``,
    ``accuracy``, ``val_loss`` and ``val_accuracy``."""

    epoch: IntColumn
    loss: FloatColumn
    accuracy: FloatColumn
    val_loss: FloatColumn
    val_accuracy: FloatColumn
    seconds: FloatColumn
    samples_per_second: FloatColumn
    iteration_loss: FloatColumn
    learning_rate: FloatColumn

    @classmethod
    def of(cls, history: History, since_epoch: int = 0, since_iteration: int = 0) -> TrainingHistory:
        """The epochs after the first ``since_epoch`` and the iterations after ``since_iteration``, as new arrays."""
        records = history.epochs[since_epoch:]
        return cls(
            epoch=np.array([record.epoch for record in records], dtype=np.int64),
            loss=_column([record.train_loss for record in records]),
            accuracy=_column([record.train_accuracy for record in records]),
            val_loss=_column([record.val_loss for record in records]),
            val_accuracy=_column([record.val_accuracy for record in records]),
            seconds=_column([record.seconds for record in records]),
            samples_per_second=_column([record.samples_per_second for record in records]),
            iteration_loss=np.array(history.iteration_loss[since_iteration:], dtype=np.float64),
            learning_rate=_column([record.learning_rate for record in records]),
        )

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras' ``History.history``: ``{"loss": [...], "accuracy": [...], "val_loss": [...], ...}``, a new dict
        of plain lists, one value per epoch; the others only when measured (``val_`` ones with a validation
        set, ``accuracy`` for class labels, not for values to regress onto or in older files)."""
        columns = {"loss": self.loss, "accuracy": self.accuracy, "val_loss": self.val_loss}
        columns["val_accuracy"] = self.val_accuracy
        return {
            name: [float(value) for value in column]
            for name, column in columns.items()
            if name == "loss" or not bool(np.isnan(column).all())
        }

    def __len__(self) -> int:
        return int(self.epoch.size)

    def rows(self) -> list[tuple[str, ...]]:
        """The table as text cells: epoch, loss, accuracy, val_loss, val_accuracy, seconds."""
        return [
            (
                str(epoch),
                f"{loss:.4f}",
                _percent(accuracy),
                "—" if math.isnan(val_loss) else f"{val_loss:.4f}",
                _percent(val_accuracy),
                f"{seconds:.2f}",
            )
            for epoch, loss, accuracy, val_loss, val_accuracy, seconds in zip(
                self.epoch, self.loss, self.accuracy, self.val_loss, self.val_accuracy, self.seconds, strict=True
            )
        ]

    def __str__(self) -> str:
        header = COLUMNS
        rows = [header, *self.rows()]
        widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
        lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
        return "\n".join(lines) if len(rows) > 1 else "no epochs trained yet"

    def __repr__(self) -> str:
        return f"TrainingHistory({len(self)} epochs, {self.iteration_loss.size} iterations)\n{self}"

    def _repr_html_(self) -> str:
        """The table in a notebook."""
        header = "".join(f"<th>{name}</th>" for name in COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in self.rows()
        )
        return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
