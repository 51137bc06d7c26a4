"""The live training view: a rich ``Live`` table of epochs, loss sparklines and an epoch progress bar.

It is a :class:`netkit.training.Callback`. The batch hook runs ~2,000 times an epoch beside a ~40 µs
training step, so it does one comparison per batch; the clock is read only when a refresh is due, and the
number of batches between refreshes is re-estimated at each refresh to land near ``refresh_per_second``.
"""

from __future__ import annotations

import time

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from netkit.training import Callback, EpochRecord, Trainer

from . import formatting as fmt
from .boxtable import Row, box_table
from .sparkline import bounds, sparkline

HEADERS = ("epoch", "train loss", "val loss", "val acc", "time", "samples/s")

# The per-iteration sparkline shows at most this many recent iterations (one epoch, usually).
ITERATION_WINDOW = 5_000
LABEL_WIDTH = 17
VALUE_WIDTH = 8
MAX_WIDTH = 84  # wider views would only stretch the columns apart
MAX_REPEAT = 4  # characters per epoch in the per-epoch sparklines, while there is room


class LiveView(Callback):
    """Use as a context manager around ``fit`` so the terminal is restored even on Ctrl-C."""

    def __init__(self, console: Console, title: Text, refresh_per_second: float = 4.0) -> None:
        self.console = console
        self.title = title
        self.interval = 1.0 / refresh_per_second
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
        self.refresh_seconds = 0.0
        self.trainer: Trainer | None = None
        self.table: Text | None = None  # redrawn only when an epoch ends
        self.table_epochs = -1

    def __enter__(self) -> LiveView:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    # -- callback hooks -------------------------------------------------------------------------------

    def on_train_begin(self, trainer: Trainer, epochs: int, steps_per_epoch: int) -> None:
        self.trainer = trainer
        self.total_epochs = trainer.epochs_done + epochs
        self.steps_per_epoch = max(steps_per_epoch, 1)
        self.live = Live(console=self.console, auto_refresh=False, vertical_overflow="visible")
        self.live.start()

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
        self.refresh(in_epoch=False)

    def _timed_refresh(self, iteration: int) -> None:
        now = time.perf_counter()
        elapsed = now - self.last_refresh_time
        if elapsed > 0:
            # Batches per second since the last refresh ended (rendering excluded) sets the next stride.
            per_second = (iteration - self.last_refresh_iteration) / elapsed
            self.stride = max(1, int(per_second * self.interval))
        self.refresh(in_epoch=True)
        self.last_refresh_time = time.perf_counter()
        self.last_refresh_iteration = iteration
        self.next_refresh = iteration + self.stride

    def refresh(self, in_epoch: bool) -> None:
        if self.live is None or self.trainer is None:
            return
        started = time.perf_counter()
        self.live.update(self.render(self.trainer, in_epoch), refresh=True)
        self.refreshes += 1
        self.refresh_seconds += time.perf_counter() - started  # what the view costs, for `bench/`

    def finish(self, summary: RenderableType) -> None:
        """Draw the final frame (table and sparklines, no progress bar), stop, and print ``summary`` below.

        The summary is printed after the live region closes, so a frame that already fills the terminal
        does not grow past it (which would leave a torn copy in the scrollback).
        """
        if self.live is not None and self.trainer is not None:
            self.live.update(self.render(self.trainer, in_epoch=False), refresh=True)
        self.close()
        self.console.print(summary)

    # -- rendering ------------------------------------------------------------------------------------
    # Everything is plain Text (rich's Table layout costs milliseconds), and the epoch table is rebuilt
    # only when an epoch ends. A refresh then costs about a millisecond, mostly rich writing the frame.

    @property
    def width(self) -> int:
        return min(self.console.width, MAX_WIDTH)

    def render(self, trainer: Trainer, in_epoch: bool) -> RenderableType:
        epochs_shown = len(trainer.history.epochs)
        if self.table is None or self.table_epochs != epochs_shown:
            self.table = self._table(trainer)
            self.table_epochs = epochs_shown
        parts: list[RenderableType] = [self.title, self.table, self._sparklines(trainer)]
        if in_epoch:
            parts.append(self._progress(trainer))
        return Group(*parts)

    def _table(self, trainer: Trainer) -> Text:
        records = trainer.history.epochs
        best = fmt.best_epoch(records)
        # Keep the frame inside the terminal: older epochs fold into one line.
        room = max(self.console.height - 17, 3)
        shown = records[-room:]
        rows: list[Row] = []
        if len(shown) < len(records):
            rows.append(([f"… {len(records) - len(shown)} earlier", "", "", "", "", ""], "bright_black"))
        width = len(str(self.total_epochs))
        for record in shown:
            cells = [
                f"{record.epoch:>{width}}/{self.total_epochs}",
                fmt.loss(record.train_loss),
                fmt.loss(record.val_loss),
                fmt.percent(record.val_accuracy),
                fmt.seconds(record.seconds),
                fmt.rate(record.samples_per_second),
            ]
            rows.append((cells, "bold green" if best is not None and record.epoch == best.epoch else ""))
        if not records:
            rows.append((["…", "", "", "", "", ""], "bright_black"))
        return box_table(HEADERS, rows, self.width)

    def _sparklines(self, trainer: Trainer) -> Text:
        spark_width = max(self.width - LABEL_WIDTH - VALUE_WIDTH - 2, 10)
        text = Text(no_wrap=True, overflow="crop")
        history = trainer.history
        recent = history.iteration_loss[-min(self.steps_per_epoch, ITERATION_WINDOW) :]
        if recent:
            tail = recent[-max(len(recent) // spark_width, 1) :]
            self._spark_row(text, "loss/iteration", sparkline(recent, spark_width), sum(tail) / len(tail), "yellow")
            text.append(INDENT + f"last {len(recent):,} iterations, linear scale\n", style="bright_black")
        train = [record.train_loss for record in history.epochs[-spark_width:]]
        validation = [record.val_loss for record in history.epochs[-spark_width:]]
        if train:
            low, high = bounds(train, validation)
            repeat = max(1, min(MAX_REPEAT, spark_width // len(train)))
            self._spark_row(
                text,
                "train loss/epoch",
                sparkline(train, None, low, high, log=True, repeat=repeat),
                train[-1],
                "magenta",
            )
            if any(value is not None for value in validation):
                self._spark_row(
                    text,
                    "val loss/epoch",
                    sparkline(validation, None, low, high, log=True, repeat=repeat),
                    validation[-1],
                    "green",
                )
            first = history.epochs[-len(train)].epoch
            text.append(
                INDENT + f"{_epoch_range(first, history.epochs[-1].epoch)}, log scale shared by both\n",
                style="bright_black",
            )
        text.rstrip()
        return text

    @staticmethod
    def _spark_row(text: Text, label: str, line: str, value: float | None, style: str) -> None:
        text.append(label.ljust(LABEL_WIDTH), style="cyan")
        text.append(fmt.loss(value).rjust(VALUE_WIDTH - 1) + " ", style=f"bold {style}")
        text.append(line + "\n", style=style)

    def _progress(self, trainer: Trainer) -> Text:
        losses = trainer.history.iteration_loss
        done = len(losses) - self.epoch_first_iteration
        elapsed = time.perf_counter() - self.epoch_started
        bar_width = max(min(40, self.width // 3), 10)
        filled = bar_width * done // self.steps_per_epoch
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"epoch {self.epoch}/{self.total_epochs} ", style="bold")
        text.append("━" * filled, style="magenta")
        text.append("━" * (bar_width - filled), style="bright_black")
        text.append(f" {done / self.steps_per_epoch:4.0%}", style="bold")
        text.append(f"  {done:,}/{self.steps_per_epoch:,} batches", style="bright_black")
        if trainer.schedule is not None:  # the rate this epoch steps with
            text.append(f"  lr {trainer.optimizer.learning_rate:.3g}", style="cyan")
        if done:
            running = sum(losses[self.epoch_first_iteration :]) / done
            remaining = elapsed / done * (self.steps_per_epoch - done)
            text.append(f"  train loss {fmt.loss(running)}", style="magenta")
            text.append(f"  {fmt.seconds(elapsed)} · eta {fmt.seconds(remaining)}", style="bright_black")
        return text


INDENT = " " * (LABEL_WIDTH + VALUE_WIDTH)


def _epoch_range(first: int, last: int) -> str:
    return f"epoch {first}" if first == last else f"epochs {first} to {last}"


def summary_panel(rows: list[tuple[str, str]], title: str = "done") -> Panel:
    """The static block left on screen after training: label/value pairs."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, value)
    return Panel(grid, title=title, title_align="left", border_style="green", expand=False)
