"""The live view's epoch table: one line per epoch, printed once when the epoch ends.

Lines go above the live region, so the scrollback (and the final screen) keeps every epoch's row however
long the run. Each line is a one-row ``rich.Table`` with the header's column widths: widths are fixed at
the start from the widest value a column can hold, so the lines stay aligned and no number is cut.
When the terminal is narrow the headers shorten first, then whole columns drop in ``drop_rank`` order
(samples/s, then time, then train acc, then val acc); epoch and both losses always stay.

To add a column (a learning rate, say), add a :class:`Column` to :func:`epoch_columns`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
from rich.table import Table
from rich.text import Text

from netkit.training.trainer import EpochRecord

from . import formatting as fmt

GAP = 2  # spaces between columns
HEADER_STYLE = "bold cyan"
BEST_MARK = "▲"


@attrs.frozen
class Column:
    header: str
    short: str  # the header when the full one does not fit
    width: int  # the widest value the column shows
    cell: Callable[[EpochRecord], str]
    drop_rank: int = 0  # 0: never dropped; otherwise lower ranks drop first


def epoch_columns(total_epochs: int, is_new_best: Callable[[EpochRecord], bool]) -> list[Column]:
    epoch_width = 2 * len(str(total_epochs)) + 1
    return [
        Column("epoch", "ep", epoch_width, lambda r: f"{r.epoch}/{total_epochs}"),
        Column("train loss", "train", 7, lambda r: fmt.loss(r.train_loss)),
        Column("train acc", "t.acc", 7, lambda r: fmt.percent(r.train_accuracy), drop_rank=3),
        Column("val loss", "val", 7, lambda r: fmt.loss(r.val_loss)),
        Column("val acc", "acc", 7, lambda r: fmt.percent(r.val_accuracy), drop_rank=4),
        Column("time", "time", 6, lambda r: fmt.seconds(r.seconds), drop_rank=2),
        Column("samples/s", "/s", 5, lambda r: fmt.rate(r.samples_per_second), drop_rank=1),
        Column("best", "", 1, lambda r: BEST_MARK if is_new_best(r) else ""),
    ]


def _needed(columns: Sequence[Column], headers: Sequence[str]) -> int:
    return sum(max(len(header), column.width) for column, header in zip(columns, headers, strict=True)) + GAP * (
        len(columns) - 1
    )


def fit_columns(columns: Sequence[Column], width: int) -> tuple[list[Column], list[str]]:
    """The columns and headers that fit ``width``: full headers, else short ones, else fewer columns."""
    kept = list(columns)
    full = [column.header for column in kept]
    if _needed(kept, full) <= width:
        return kept, full
    while True:
        short = [column.short for column in kept]
        droppable = [column for column in kept if column.drop_rank]
        if _needed(kept, short) <= width or not droppable:
            return kept, short
        kept.remove(min(droppable, key=lambda column: column.drop_rank))


class EpochTable:
    """Renders the header once and a line per epoch, at the widths chosen for ``width``."""

    def __init__(self, columns: Sequence[Column], width: int) -> None:
        self.columns, self.headers = fit_columns(columns, width)
        self.widths = [max(len(h), c.width) for c, h in zip(self.columns, self.headers, strict=True)]

    @property
    def width(self) -> int:
        return sum(self.widths) + GAP * (len(self.widths) - 1)

    def _table(self, show_header: bool) -> Table:
        table = Table(
            box=None, show_header=show_header, header_style=HEADER_STYLE, padding=(0, GAP // 2), pad_edge=False
        )
        for width in self.widths:
            table.add_column(justify="right", min_width=width, no_wrap=True)
        return table

    def header(self) -> Table:
        table = self._table(show_header=True)
        for column, header in zip(table.columns, self.headers, strict=True):
            column.header = header
        return table

    def rule(self) -> Text:
        return Text("─" * self.width, style="bright_black")

    def row(self, record: EpochRecord, style: str = "") -> Table:
        table = self._table(show_header=False)
        cells = [Text(column.cell(record)) for column in self.columns]
        if cells[-1].plain == BEST_MARK:
            cells[-1].stylize("bold yellow")
        table.add_row(*cells, style=style)
        return table
