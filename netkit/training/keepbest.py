"""Keep the best epoch, stop early: the lowest validation loss decides both.

:class:`KeepBest` watches the validation loss after every epoch and copies the parameters of the best epoch
so far (the lowest loss, improved by more than ``min_delta``). With ``patience`` it stops the run once that
many epochs have passed without a new best. What it knows follows from the history and the best epoch's
weights, which is what a model file saved by :func:`snapshot` holds, so a resumed run keeps, and stops at,
exactly what an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from netkit.errors import ConfigError
from netkit.io.modelfile import ModelFile
from netkit.model.network import Network
from netkit.training.trainer import Callback, EpochRecord, Trainer
from netkit.types import FloatArray

KEEP_CHOICES = ("best", "last")


class KeepBest(Callback):
    """The best epoch by validation loss, its parameters, and (with ``patience``) early stopping."""

    def __init__(self, patience: int | None = None, min_delta: float = 0.0) -> None:
        if patience is not None and patience < 1:
            raise ValueError(f"patience must be at least 1 epoch. Received: patience={patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be 0 or more. Received: min_delta={min_delta!r}")
        self.patience, self.min_delta = patience, min_delta
        self.best_epoch: int | None = None
        self.best_loss: float | None = None
        self.best_parameters: FloatArray | None = None
        self.stopped_at: int | None = None
        self.last_epoch: int | None = None

    def resume(self, epochs: Sequence[EpochRecord], best_parameters: FloatArray | None) -> None:
        """Pick up after ``epochs`` whose best epoch had ``best_parameters`` (the file's model)."""
        for record in epochs:
            self._consider(record)
            self.last_epoch = record.epoch
        if self.best_epoch is not None:
            self.best_parameters = None if best_parameters is None else best_parameters.copy()

    def _consider(self, record: EpochRecord) -> bool:
        loss = record.val_loss
        if loss is None:
            return False
        if self.best_loss is None or loss < self.best_loss - self.min_delta:
            self.best_epoch, self.best_loss = record.epoch, loss
            return True
        return False

    @property
    def waited(self) -> int:
        """Epochs since the best one (0 right after a new best)."""
        return 0 if self.best_epoch is None or self.last_epoch is None else self.last_epoch - self.best_epoch

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        self.last_epoch = record.epoch
        if self._consider(record):
            self.best_parameters = trainer.model.parameters.copy()
        elif self.patience is not None and self.best_epoch is not None and self.waited >= self.patience:
            trainer.stop_requested = True
            self.stopped_at = record.epoch

    def restore(self, model: Network) -> None:
        """Put the best epoch's parameters back into ``model`` (nothing to do without a validation loss)."""
        if self.best_parameters is not None:
            np.copyto(model.parameters, self.best_parameters)


def snapshot(trainer: Trainer, training: dict[str, Any], keeper: KeepBest | None) -> ModelFile:
    """What to save after an epoch: with a ``keeper`` that knows a best epoch, that epoch's model, plus the
    last epoch's parameters for ``--resume``; otherwise the last epoch. ``training["held_epoch"]`` says which."""
    model_file = ModelFile.from_trainer(trainer, training)
    held = trainer.epochs_done
    if keeper is not None and keeper.best_parameters is not None and keeper.best_epoch != trainer.epochs_done:
        model = trainer.model
        best = Network.from_config(model.get_config(), registry=model.registry)
        np.copyto(best.parameters, keeper.best_parameters)
        model_file.model = best
        model_file.resume_parameters = model.parameters.copy()
        held = keeper.best_epoch or held
    model_file.training["held_epoch"] = held
    return model_file


def set_keeping(
    training: dict[str, Any],
    epochs_done: int,
    keep: str | None,
    patience: int | None,
    min_delta: float,
    validation: Any,
) -> None:
    """Record in a run's ``training`` options what its file keeps (``Network.fit``'s ``keep`` and
    ``patience``, as ``netkit train --keep/--patience`` records them); a continued run refuses others."""
    recorded = training.get("keep") or "last"
    # As netkit train: a new run keeps its best epoch whenever it has validation rows.
    chosen = keep or ("best" if patience is not None else recorded if epochs_done else "best" if validation else "last")
    if chosen not in KEEP_CHOICES:
        raise ConfigError(f"keep must be 'best' or 'last'. Received: keep={keep!r}")
    if epochs_done and (chosen != recorded or (patience is not None and patience != training.get("patience"))):
        raise ConfigError(
            f"this run keeps its {recorded} epoch (patience {training.get('patience')}); fit continues it, so "
            f"keep={chosen!r}, patience={patience!r} would change what it keeps. Build a new model instead"
        )
    if chosen == "best" and not validation:
        raise ConfigError("keep='best' and patience need validation rows: pass validation=0.1, say")
    try:
        checked = KeepBest(patience, min_delta)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if chosen == "best" and not epochs_done:
        training["keep"] = "best"
        if patience is not None:
            training["patience"], training["min_delta"] = checked.patience, checked.min_delta
