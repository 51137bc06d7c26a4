"""The live training view: epoch lines above, whole-run loss charts and an epoch progress bar below.

It is a :class:`netkit.training.trainer.Callback`. The batch hook runs ~2,000 times an epoch beside a ~40 µs
training step, so it does one comparison per batch; the clock is read only when a refresh is due, and the
number of batches between refreshes is re-estimated at each refresh to land near ``refresh_per_second``.
Frames are also spaced by at least ``1 / BUDGET`` times what a frame costs (measured as the run goes), so
on a slow or busy machine the view redraws less often instead of taking a larger share of the run.

Each finished epoch is printed once as a table line above rich's live region (so the scrollback keeps
every epoch); the live region holds only the two charts and the progress bar. Printing above the region
redraws it, so lines of epochs that end faster than frames are due wait and go out together.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from netkit.training.trainer import Callback, EpochRecord, Trainer

from . import formatting as fmt
from .chart import fitted_line
from .epoch_table import EpochTable, epoch_columns
from .loss_charts import epoch_chart, iteration_chart

MAX_WIDTH = 120  # wider charts would only stretch the lines apart
BUDGET = 0.01  # the share of the run's time the view aims to stay under (the issue allows 2%)


class Rendered:
    """A renderable drawn once into lines of segments, replayed on every frame until it changes."""

    def __init__(self, renderable: RenderableType, console: Console, width: int) -> None:
        self.lines = console.render_lines(renderable, console.options.update_width(width), pad=False)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            yield from line
            yield Segment.line()


class LossBuffer:
    """The history's iteration losses as a NumPy array, grown by copying only what is new."""

    def __init__(self) -> None:
        self.values = np.empty(4096)
        self.size = 0

    def update(self, losses: list[float]) -> np.ndarray[Any, Any]:
        new = len(losses) - self.size
        if new > 0:
            if self.size + new > self.values.size:
                grown = np.empty(max(2 * self.values.size, self.size + new))
                grown[: self.size] = self.values[: self.size]
                self.values = grown
            self.values[self.size : self.size + new] = losses[self.size :]
            self.size += new
        return self.values[: self.size]


class LiveView(Callback):
    """Use as a context manager around ``fit`` so the terminal is restored even on Ctrl-C."""

    def __init__(self, console: Console, title: Text, refresh_per_second: float = 4.0) -> None:
        self.console = console
        self.title = title
        self.base_interval = self.interval = 1.0 / refresh_per_second
        self.live: Live | None = None
        self.total_epochs = 0
        self.steps_per_epoch = 1
        self.epoch = 0
        self.epoch_first_iteration = 0
        self.epoch_started = 0.0
        self.next_refresh = 1  # the iteration number at which the next refresh is due
        self.stride = 1
        self.last_refresh_time = 0.0
        self.last_refresh_iteration = 0
        self.refreshes = 0
        self.refresh_seconds = 0.0  # what the view cost: frames and epoch lines, for `bench/`
        self.frame_seconds = 0.0  # a running estimate of one frame's cost
        self.pending_rows: list[EpochRecord] = []
        self.trainer: Trainer | None = None
        self.losses = LossBuffer()
        self.table: EpochTable | None = None
        self.lowest_val_loss = float("inf")
        self.epoch_chart: Rendered | None = None  # redrawn only when an epoch ends
        self.epoch_chart_key: tuple[int, int] = (-1, -1)

    def __enter__(self) -> LiveView:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self.live is not None:
            self._flush_rows()  # an interrupted run still leaves every finished epoch's line
            self.live.stop()
            self.live = None

    # -- callback hooks -------------------------------------------------------------------------------

    def on_train_begin(self, trainer: Trainer, epochs: int, steps_per_epoch: int) -> None:
        self.trainer = trainer
        self.total_epochs = trainer.epochs_done + epochs
        self.steps_per_epoch = max(steps_per_epoch, 1)
        self.live = Live(console=self.console, auto_refresh=False, vertical_overflow="visible")
        self.live.start()
        self.table = EpochTable(epoch_columns(self.total_epochs, self._is_new_best), self.width)
        self.live.console.print(self.title)
        self.live.console.print(self.table.header())
        self.live.console.print(self.table.rule())
        for record in trainer.history.epochs:  # a resumed run's earlier epochs, so the table is whole
            self.live.console.print(self.table.row(record, "bright_black"))
            self._note_best(record)
        self.last_refresh_time = time.perf_counter()

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self.epoch = epoch
        self.epoch_first_iteration = len(trainer.history.iteration_loss)
        self.epoch_started = self.last_refresh_time = time.perf_counter()
        self.last_refresh_iteration = self.epoch_first_iteration
        # No refresh here: the previous epoch's final frame stands until the first timed one, which keeps
        # the fixed cost per epoch to one redraw (short epochs of ~0.1 s would otherwise pay for three).
        self.next_refresh = self.epoch_first_iteration + self.stride

    def on_batch_end(self, trainer: Trainer, iteration: int, loss: float) -> None:
        if iteration >= self.next_refresh:
            self._timed_refresh(iteration)

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        self.pending_rows.append(record)
        if time.perf_counter() - self.last_refresh_time >= self.interval or trainer.epochs_done == self.total_epochs:
            self.refresh(in_epoch=False)

    def _is_new_best(self, record: EpochRecord) -> bool:
        return record.val_loss is not None and record.val_loss <= self.lowest_val_loss

    def _note_best(self, record: EpochRecord) -> None:
        if record.val_loss is not None:
            self.lowest_val_loss = min(self.lowest_val_loss, record.val_loss)

    def _flush_rows(self) -> None:
        """Print the waiting epoch lines above the live region (which redraws it: one frame)."""
        if self.live is None or self.table is None or not self.pending_rows:
            return
        rows = []
        for record in self.pending_rows:
            rows.append(self.table.row(record))
            self._note_best(record)
        self.pending_rows = []
        self.live.console.print(Group(*rows))

    def _timed_refresh(self, iteration: int) -> None:
        now = time.perf_counter()
        elapsed = now - self.last_refresh_time
        if elapsed > 0:
            # Batches per second since the last refresh ended (rendering excluded) sets the next stride.
            per_second = (iteration - self.last_refresh_iteration) / elapsed
            self.stride = max(1, int(per_second * self.interval))
        if elapsed >= self.interval:  # long batches (full-batch: one an epoch) reach here early
            self.refresh(in_epoch=True)
            self.last_refresh_iteration = iteration
        self.next_refresh = iteration + self.stride

    def refresh(self, in_epoch: bool) -> None:
        """One frame: the waiting epoch lines and the live region."""
        if self.live is None or self.trainer is None:
            return
        started = time.perf_counter()
        rendered = self.render(self.trainer, in_epoch)
        if self.pending_rows:
            self.live.update(rendered, refresh=False)
            self._flush_rows()
        else:
            self.live.update(rendered, refresh=True)
        self.last_refresh_time = time.perf_counter()
        cost = self.last_refresh_time - started
        self.refreshes += 1
        self.refresh_seconds += cost
        self.frame_seconds = cost if self.refreshes == 1 else 0.8 * self.frame_seconds + 0.2 * cost
        self.interval = max(self.base_interval, self.frame_seconds / BUDGET)

    def finish(self, summary: RenderableType) -> None:
        """Draw the final frame (the charts, no progress bar), stop, and print ``summary`` below.

        The summary is printed after the live region closes, so a frame that already fills the terminal
        does not grow past it (which would leave a torn copy in the scrollback).
        """
        if self.live is not None and self.trainer is not None:
            self.refresh(in_epoch=False)
        self.close()
        self.console.print(summary)

    # -- rendering ------------------------------------------------------------------------------------
    # The charts are plain Text built from NumPy dot grids; the epoch chart is rebuilt only when an epoch
    # ends, so a refresh costs the iteration chart and rich writing the frame.

    @property
    def width(self) -> int:
        return min(self.console.width, MAX_WIDTH)

    @property
    def chart_height(self) -> int:
        """Lines of braille per chart: as many as leave room for the table lines, within 3 to 7."""
        return min(max((self.console.height - 12) // 2, 3), 7)

    def render(self, trainer: Trainer, in_epoch: bool) -> RenderableType:
        records = trainer.history.epochs
        key = (len(records), self.width)
        if self.epoch_chart is None or self.epoch_chart_key != key:
            chart = epoch_chart(records, self.width, self.chart_height)
            self.epoch_chart = Rendered(chart, self.console, self.width)
            self.epoch_chart_key = key
        losses = self.losses.update(trainer.history.iteration_loss)
        parts: list[RenderableType] = [
            iteration_chart(losses, self.width, self.chart_height, self.steps_per_epoch),
            self.epoch_chart,
        ]
        if in_epoch:
            parts.append(self._progress(trainer))
        return Group(*parts)

    def _progress(self, trainer: Trainer) -> Text:
        losses = self.losses.update(trainer.history.iteration_loss)
        done = losses.size - self.epoch_first_iteration
        elapsed = time.perf_counter() - self.epoch_started
        bar_width = max(min(40, self.width // 4), 8)
        filled = bar_width * done // self.steps_per_epoch
        parts = [
            (f"epoch {self.epoch}/{self.total_epochs} ", "bold", 0),
            ("━" * filled, "magenta", 0),
            ("━" * (bar_width - filled), "bright_black", 0),
            (f" {done / self.steps_per_epoch:4.0%}", "bold", 0),
            (f"  {done:,}/{self.steps_per_epoch:,} batches", "bright_black", 1),
        ]
        if trainer.schedule is not None:  # the rate this epoch steps with
            parts.append((f"  lr {trainer.optimizer.learning_rate:.3g}", "cyan", 5))
        if done:
            running = float(np.mean(losses[self.epoch_first_iteration :]))
            remaining = elapsed / done * (self.steps_per_epoch - done)
            parts.append((f"  train loss {fmt.loss(running)}", "magenta", 4))
            parts.append((f"  {fmt.seconds(elapsed)}", "bright_black", 3))
            parts.append((f" · eta {fmt.seconds(remaining)}", "bright_black", 2))
        text = fitted_line(parts, self.width)
        text.rstrip()
        return text


def summary_panel(rows: list[tuple[str, str]], title: str = "done") -> Panel:
    """The static block left on screen after training: label/value pairs."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, value)
    return Panel(grid, title=title, title_align="left", border_style="green", expand=False)
