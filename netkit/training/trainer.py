"""The training loop: UI-agnostic, it reports progress to callbacks and never prints.

A :class:`Trainer` is everything a checkpoint holds: the model, the optimiser (with its state), the random
generator that shuffles the batches, and the history. Saving those after an epoch and loading them again
continues the run exactly as if it had never stopped.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import attrs
import numpy as np

from netkit.backend import blas_threads, single_threaded
from netkit.data.dataset import are_values, checked_targets
from netkit.data.pixels import warn_outside_unit_range
from netkit.errors import ConfigError, TrainingDiverged
from netkit.model.evaluation import evaluate
from netkit.model.network import Network
from netkit.protocols import Optimizer, Schedule
from netkit.training.batching import Augment, BatchBuffers, BatchSource
from netkit.training.pitfalls import LearningWarning, history_problems, setup_problems
from netkit.training.regularisation import regularised, weight_pairs
from netkit.types import FloatArray, TargetArray


@attrs.frozen
class EpochRecord:
    """One row of the history: what the live table shows."""

    epoch: int
    train_loss: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    samples_per_second: float
    # The rate the optimiser stepped with in this epoch (a schedule changes it); None in older files.
    learning_rate: float | None = None
    # The running accuracy over the epoch's training batches, each scored by the weights of its own step in
    # training mode (dropout on), as Keras reports it; None in older files.
    train_accuracy: float | None = None


@attrs.define
class History:
    """Loss per epoch (train and validation) and per iteration (training batches)."""

    epochs: list[EpochRecord] = attrs.field(factory=list)
    iteration_loss: list[float] = attrs.field(factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": [attrs.asdict(record) for record in self.epochs],
            "iteration_loss": self.iteration_loss,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        return cls([EpochRecord(**record) for record in data["epochs"]], [float(v) for v in data["iteration_loss"]])


class Callback:
    """Override what you need; the loop calls these in order. Exceptions propagate and stop training."""

    def on_train_begin(self, trainer: Trainer, epochs: int, steps_per_epoch: int) -> None: ...

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer: Trainer, iteration: int, loss: float) -> None: ...

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None: ...

    def on_train_end(self, trainer: Trainer) -> None: ...


@attrs.define(eq=False)
class Trainer:
    """Trains ``model`` with ``optimizer``; ``rng`` shuffles the batches; ``history`` grows with each epoch.

    Optional: ``augment`` transforms every training image (see :mod:`netkit.training.augmentation`); ``schedule`` sets
    the learning rate of each epoch from the optimiser's own (a ``netkit.schedules`` plugin). Layers that
    draw random numbers while training (dropout) get a generator seeded from ``rng`` at every epoch.
    """

    model: Network
    optimizer: Optimizer
    rng: np.random.Generator = attrs.field(factory=lambda: np.random.default_rng(0))
    history: History = attrs.field(factory=History)
    augment: Augment | None = None
    schedule: Schedule | None = None
    # Set by a callback (early stopping): the current fit ends after the epoch in progress.
    stop_requested: bool = attrs.field(default=False, init=False)
    # The last fit's batch buffers (not its data), taken over by the next fit on same-shaped data.
    _batch_buffers: BatchBuffers | None = attrs.field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.optimizer.bind(self.model.parameters, self.model.gradients)

    @property
    def epochs_done(self) -> int:
        return len(self.history.epochs)

    @property
    def _random_layers(self) -> list[Any]:
        return [layer for layer in self.model.layers if layer.random]

    def fit(
        self,
        images: FloatArray,
        labels: TargetArray,
        epochs: int,
        validation: tuple[FloatArray, TargetArray] | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> History:
        """Run ``epochs`` more epochs on class ``labels``, or on float values to regress onto (one row of
        ``output_size`` values per image); raises :class:`TrainingDiverged` on a NaN or infinite loss."""
        if epochs < 1:
            raise ValueError(f"epochs must be at least 1. Received: epochs={epochs!r}")
        images = self.model.check_input(images)
        if np.asarray(labels).shape[:1] != images.shape[:1]:
            raise ConfigError(f"expected one label per image ({images.shape[0]}), got shape {np.shape(labels)}")
        # Class labels, or float values to regress onto (then no accuracy is measured).
        targets = checked_targets(labels, images.shape[0], self.model.output_size, self.model.dtype)
        warn_outside_unit_range(images)
        batch_size = self.optimizer.samples_per_step(images.shape[0])
        batches = BatchSource(images, targets, self.model.output_size, batch_size, self._batch_buffers, self.augment)
        self._batch_buffers = batches.buffers
        for callback in callbacks:
            callback.on_train_begin(self, epochs, batches.steps_per_epoch)
        work = batch_size * self.model.parameter_count
        single_thread = single_threaded(work)
        # While a step runs on one core, a helper thread gathers the next batches on the other. When BLAS
        # keeps both cores busy, the helper would only compete with it (bench/README.md).
        helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netkit-batches") if single_thread else None
        self.stop_requested = False
        for problem in setup_problems(self.model):
            warnings.warn(problem.message, LearningWarning, stacklevel=2)
        with blas_threads(work), helper or nullcontext():
            for _ in range(epochs):
                self._run_epoch(batches, helper, validation, callbacks)
                if self.stop_requested:
                    break
        for callback in callbacks:
            callback.on_train_end(self)
        return self.history

    def _run_epoch(
        self,
        batches: BatchSource,
        helper: ThreadPoolExecutor | None,
        validation: tuple[FloatArray, TargetArray] | None,
        callbacks: Sequence[Callback],
    ) -> None:
        epoch = self.epochs_done + 1
        base_rate = self.optimizer.learning_rate
        if self.schedule is not None:
            self.optimizer.learning_rate = self.schedule.rate(base_rate, epoch - 1)
        rate = self.optimizer.learning_rate
        for layer in self._random_layers:
            layer.rng = np.random.default_rng(self.rng.integers(2**63))
        for callback in callbacks:
            callback.on_epoch_begin(self, epoch)
        # Bound methods and lists looked up once: the loop below runs ~2,000 times an epoch.
        forward, backward = self.model.forward, self.model._backward_into
        loss_value, step = self.model.loss.value, self.optimizer.step
        weight_decay, max_norm = self.optimizer.weight_decay, self.optimizer.max_norm
        if weight_decay or max_norm is not None:  # only then: the plain step stays one bound method
            step = regularised(step, weight_pairs(self.model.layers), weight_decay, max_norm)
        losses = self.history.iteration_loss
        record_loss, isfinite = losses.append, math.isfinite
        first_iteration = len(losses)
        # Each batch's outputs are copied into one buffer and scored in one argmax once the epoch is over: on
        # a small batch a copy is much cheaper than an argmax (bench/README.md, "Hot-path choices").
        outputs, served = np.empty((batches.images.shape[0], self.model.output_size), self.model.dtype), 0
        started = time.perf_counter()
        for image_batch, target_batch, gradient in batches.epoch(self.rng, helper):
            output = forward(image_batch, True)
            outputs[served : (served := served + output.shape[0])] = output
            loss = loss_value(output, target_batch)
            if not isfinite(loss):
                raise TrainingDiverged(
                    f"the loss became {loss} at epoch {epoch}, iteration {len(losses) + 1}; try a smaller learning rate"
                )
            backward(output, target_batch, gradient)
            step()
            record_loss(loss)
            for callback in callbacks:
                callback.on_batch_end(self, len(losses), loss)
        train_seconds = time.perf_counter() - started
        train_accuracy = None
        if not are_values(batches.labels):
            guesses = np.argmax(outputs[:served], axis=1)
            train_accuracy = float(np.count_nonzero(guesses == batches.labels_served())) / max(served, 1)
        self.optimizer.learning_rate = base_rate  # what the optimiser's config (and a saved file) keeps
        epoch_losses = losses[first_iteration:]
        val_loss = val_accuracy = None
        if validation is not None and len(validation[1]):
            scores = evaluate(self.model, validation[0], validation[1], warn_range=False)  # rows of the same data
            val_loss, val_accuracy = scores.loss, scores.accuracy
        record = EpochRecord(
            epoch=epoch,
            train_loss=float(np.mean(epoch_losses)),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            seconds=time.perf_counter() - started,
            samples_per_second=batches.images.shape[0] / max(train_seconds, 1e-9),
            learning_rate=rate,
            train_accuracy=train_accuracy,
        )
        self.history.epochs.append(record)
        starting_loss = self.history.iteration_loss[0] if self.history.iteration_loss else None
        for message in history_problems(self.history.epochs, self.model.output_size, starting_loss):
            warnings.warn(message, LearningWarning, stacklevel=4)
        for callback in callbacks:
            callback.on_epoch_end(self, record)
