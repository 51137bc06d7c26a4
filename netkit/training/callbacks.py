"""Callbacks for ``Sequential.fit``: subclass :class:`Callback`, or hand functions to :class:`LambdaCallback`.

Each hook receives the :class:`~netkit.training.trainer.Trainer` (``trainer.model``, ``trainer.history``); an
exception raised in a hook stops training, which is how a user-written early stop works.
"""

from __future__ import annotations

from collections.abc import Callable

from netkit.training.progress import ProgressBar
from netkit.training.run import Checkpoint
from netkit.training.trainer import Callback, EpochRecord, Trainer

__all__ = ["Callback", "Checkpoint", "EpochRecord", "LambdaCallback", "ProgressBar"]


class LambdaCallback(Callback):
    """``LambdaCallback(on_epoch_end=lambda trainer, record: print(record.val_accuracy))``."""

    def __init__(
        self,
        on_train_begin: Callable[[Trainer, int, int], object] | None = None,
        on_epoch_begin: Callable[[Trainer, int], object] | None = None,
        on_batch_end: Callable[[Trainer, int, float], object] | None = None,
        on_epoch_end: Callable[[Trainer, EpochRecord], object] | None = None,
        on_train_end: Callable[[Trainer], object] | None = None,
    ) -> None:
        self._train_begin, self._epoch_begin, self._batch_end = on_train_begin, on_epoch_begin, on_batch_end
        self._epoch_end, self._train_end = on_epoch_end, on_train_end

    def on_train_begin(self, trainer: Trainer, epochs: int, steps_per_epoch: int) -> None:
        if self._train_begin is not None:
            self._train_begin(trainer, epochs, steps_per_epoch)

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        if self._epoch_begin is not None:
            self._epoch_begin(trainer, epoch)

    def on_batch_end(self, trainer: Trainer, iteration: int, loss: float) -> None:
        if self._batch_end is not None:
            self._batch_end(trainer, iteration, loss)

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        if self._epoch_end is not None:
            self._epoch_end(trainer, record)

    def on_train_end(self, trainer: Trainer) -> None:
        if self._train_end is not None:
            self._train_end(trainer)
