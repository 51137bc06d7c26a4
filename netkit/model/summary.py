"""``model.summary()``: the layer table ``netkit inspect`` shows, as plain text and as HTML for notebooks."""

from __future__ import annotations

import html
import math

import attrs

from netkit.model.layer import shape_text
from netkit.model.network import Network
from netkit.training.trainer import History

HEADER = ("#", "layer", "name", "shape", "parameters", "count")


@attrs.frozen
class ModelSummary:
    """Printable (``print(model.summary())``); a notebook shows it as a table."""

    title: str
    rows: tuple[tuple[str, ...], ...]
    total: int
    notes: tuple[str, ...]

    @classmethod
    def of(cls, model: Network, history: History, optimizer: str | None) -> ModelSummary:
        rows = tuple(
            (
                str(index + 1),
                layer.describe(),
                name,
                f"{shape_text(model.shapes[index])} → {shape_text(model.shapes[index + 1])}",
                " · ".join(f"{key} {'x'.join(map(str, array.shape))}" for key, array in views.items()),
                f"{sum(array.size for array in views.values()):,}",
            )
            for index, (layer, name, views) in enumerate(
                zip(model.layers, model.layer_names, model.parameter_views, strict=True)
            )
        )
        loss = model.registry.name_of("losses", model.loss)
        notes = [f"loss {loss}" + (f" · optimizer {optimizer}" if optimizer else "")]
        if history.epochs:
            last = history.epochs[-1]
            trained = f"trained {len(history.epochs)} epochs, {len(history.iteration_loss):,} iterations"
            trained += f"; last train loss {last.train_loss:.4f}"
            if last.val_accuracy is not None and not math.isnan(last.val_accuracy):
                trained += f", val accuracy {last.val_accuracy:.2%}"
            notes.append(trained)
        else:
            notes.append("not trained yet")
        return cls(repr(model), rows, model.parameter_count, tuple(notes))

    def __str__(self) -> str:
        table = [HEADER, *self.rows, ("", "total", "", "", "", f"{self.total:,}")]
        widths = [max(len(row[column]) for row in table) for column in range(len(HEADER))]
        right = {0, len(HEADER) - 1}

        def line(row: tuple[str, ...]) -> str:
            cells = (
                cell.rjust(width) if column in right else cell.ljust(width)
                for column, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
            return "  ".join(cells).rstrip()

        rule = "-" * len(line(HEADER))
        body = [line(HEADER), rule, *map(line, self.rows), rule, line(table[-1])]
        return "\n".join([self.title, *body, *self.notes])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(name)}</th>" for name in HEADER)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self.rows)
        total = f"<tr><td></td><td><b>total</b></td><td></td><td></td><td></td><td><b>{self.total:,}</b></td></tr>"
        notes = "<br>".join(html.escape(note) for note in self.notes)
        return (
            f"<div><b>{html.escape(self.title)}</b><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}{total}</tbody></table><p>{notes}</p></div>"
        )
