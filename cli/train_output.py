"""What ``netkit train`` prints: plain epoch lines, the JSON result, the final summary, the Ctrl-C note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.panel import Panel

from netkit.model.evaluation import Evaluation
from netkit.pictures.series import lowest_val_loss
from netkit.training.keepbest import KeepBest
from netkit.training.run import Run, RunRequest
from netkit.training.trainer import Callback, EpochRecord, Trainer

from . import formatting as fmt
from .live import summary_panel


class PlainLines(Callback):
    """One line per epoch on stdout, for logs, pipes and CI."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.total_epochs = 0

    def on_train_begin(self, trainer: Trainer, epochs: int, steps_per_epoch: int) -> None:
        self.total_epochs = trainer.epochs_done + epochs
        click.echo(self.header)

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        line = fmt.epoch_line(record, self.total_epochs)
        if trainer.schedule is not None and record.learning_rate is not None:
            line += f"  lr {record.learning_rate:.3g}"
        click.echo(line)


def result_record(run: Run, request: RunRequest, file_format: str, scores: Evaluation) -> dict[str, Any]:
    trainer = run.trainer
    return {
        "model": str(request.out),
        "format": file_format,
        "architecture": repr(trainer.model),
        "dataset": run.training.get("dataset"),
        "epochs": trainer.epochs_done,
        "history": trainer.history.to_dict(),
        "test_accuracy": scores.accuracy,
        "test_loss": scores.loss,
        "test_n": scores.n,
        "held_epoch": run.training.get("held_epoch", trainer.epochs_done),
    }


def held_note(trainer: Trainer, held: int, keeper: KeepBest | None) -> str:
    """`` (epoch 8 of 10: the lowest validation loss)``, or nothing when the file holds the last epoch."""
    note = ""
    if keeper is not None and keeper.stopped_at is not None:
        note = f" · stopped early: no lower validation loss in {fmt.plural(keeper.patience or 0, 'epoch')}"
    if keeper is not None and held != trainer.epochs_done:
        note = f" (epoch {held} of {trainer.epochs_done}: the lowest validation loss){note}"
    return note


def summary(
    run: Run,
    request: RunRequest,
    file_format: str,
    scores: Evaluation,
    wall: float,
    held: int | None = None,
    keeper: KeepBest | None = None,
) -> Panel:
    history = run.trainer.history
    run_epochs = history.epochs[run.resumed_from :]
    held = held or run.trainer.epochs_done
    # The best epoch is the one --keep best keeps (the lowest validation loss, by more than --min-delta).
    kept = keeper.best_epoch if keeper is not None else None
    best = next((record for record in history.epochs if record.epoch == kept), None) or lowest_val_loss(history.epochs)
    best_text = (
        f"{best.epoch} (lowest val loss {fmt.loss(best.val_loss)}, val acc {fmt.percent(best.val_accuracy)})"
        if best is not None
        else "— (no validation set)"
    )
    timing = f"{fmt.plural(len(run_epochs), 'epoch')} in {fmt.seconds(sum(r.seconds for r in run_epochs))}"
    return summary_panel(
        [
            (
                "test accuracy",
                f"[bold green]{fmt.percent(scores.accuracy)}[/] on {scores.n:,} test images "
                f"(loss {fmt.loss(scores.loss)})",
            ),
            ("best epoch", best_text),
            (
                "time",
                f"{timing}, {fmt.seconds(wall)} in all",
            ),
            (
                "saved",
                f"{request.out} ({file_format}, epoch {held} of the {fmt.plural(run.trainer.epochs_done, 'epoch')} "
                f"in its history{held_note(run.trainer, held, keeper) and ': the lowest validation loss'})",
            ),
        ],
        title="trained " + repr(run.trainer.model),
    )


def interrupt_message(out: Path, saved_epoch: int | None, resumed_from: int) -> str:
    if saved_epoch is not None:
        message = f"interrupted; {out} holds epoch {saved_epoch} (continue with --resume)"
    elif resumed_from:
        message = f"interrupted before an epoch ended; {out} is unchanged (epoch {resumed_from})"
    else:
        message = "interrupted before the first epoch ended; nothing was saved"
    return message
