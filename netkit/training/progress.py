"""A plain-text progress bar for ``Sequential.fit``: one line per epoch, redrawn with a carriage return.

The core may not import rich (DESIGN.md section 2), and a carriage return is all a terminal or a Jupyter
output cell needs to redraw a line, so the bar is written by hand. It animates only where a person is
watching (a terminal, or a notebook kernel); anywhere else ``fit`` stays silent unless asked.
"""

from __future__ import annotations

import sys
import time
from typing import IO

from netkit.training.trainer import Callback, EpochRecord, Trainer

# Redraws per second at most: a bar redrawn on every one of ~1,700 steps an epoch would cost more than it shows.
REDRAW_INTERVAL = 0.1
BAR_WIDTH = 24


def watched(stream: IO[str]) -> bool:
    """Whether someone is likely to see ``stream`` animate: a terminal, or a Jupyter kernel's output."""
    if type(stream).__module__.startswith("ipykernel"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressBar(Callback):
    """``epoch 2/5 [==========>           ] 812/1688  loss 0.4123``, then a summary line per epoch."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream
        self.total_epochs = 0
        self.steps_per_epoch = 0
        self._epoch = 0
        self._step = 0
        self._loss_sum = 0.0
        self._drawn_at = 0.0

    def _out(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stdout  # the stdout of now (notebooks swap it)

    def on_train_begin(self, trainer: Trainer, epochs: int, steps_per_epoch: int) -> None:
        self.total_epochs = trainer.epochs_done + epochs
        self.steps_per_epoch = steps_per_epoch

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self._epoch, self._step, self._loss_sum, self._drawn_at = epoch, 0, 0.0, 0.0

    def on_batch_end(self, trainer: Trainer, iteration: int, loss: float) -> None:
        self._step += 1
        self._loss_sum += loss
        now = time.monotonic()
        if now - self._drawn_at >= REDRAW_INTERVAL:
            self._drawn_at = now
            self._draw(f"loss {self._loss_sum / self._step:.4f}", end="")

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        parts = [f"loss {record.train_loss:.4f}"]
        if record.val_loss is not None:
            parts.append(f"val_loss {record.val_loss:.4f}")
        if record.val_accuracy is not None:
            parts.append(f"val_accuracy {record.val_accuracy:.2%}")
        parts.append(f"{record.seconds:.1f}s")
        self._step = self.steps_per_epoch
        self._draw("  ".join(parts), end="\n")

    def _draw(self, text: str, end: str) -> None:
        done = self._step / max(self.steps_per_epoch, 1)
        filled = min(BAR_WIDTH, int(done * BAR_WIDTH))
        arrow = ">" if filled < BAR_WIDTH else ""
        bar = ("=" * filled + arrow).ljust(BAR_WIDTH)
        steps = f"{self._step}/{self.steps_per_epoch}".rjust(2 * len(str(self.steps_per_epoch)) + 1)
        line = f"epoch {self._epoch}/{self.total_epochs} [{bar}] {steps}  {text}"
        out = self._out()
        out.write("\r" + line + end)
        out.flush()
