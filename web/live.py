"""Training as the page watches it: a :class:`~netkit.training.trainer.Callback` that keeps what the page polls for.

The training loop stays UI-agnostic: this callback only records (a clock check per batch, a copy of the
first layer's weights now and then); the server thread turns the records into JSON when the page asks.
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

import attrs
import numpy as np

from netkit.training.trainer import Callback, EpochRecord, Trainer

# The weight grid refreshes at the end of every epoch and, within a long epoch, this often.
WEIGHT_REFRESH_SECONDS = 0.5


class TrainingProgress(Callback):
    """What a ``netkit train --web`` run has done so far; safe to read from the server's threads."""

    def __init__(self, description: str, refresh_seconds: float = WEIGHT_REFRESH_SECONDS) -> None:
        self.description, self.refresh_seconds = description, refresh_seconds
        self.status = "starting"
        self.error: str | None = None
        self.epochs_planned = self.steps_per_epoch = 0
        self.first_epoch = 1
        self._losses: list[float] = []
        self._epochs: list[dict[str, Any]] = []
        self._weights: tuple[int, int, int, bytes] | None = None  # version, units, inputs, float32 bytes
        self._next_refresh = 0.0
        self._lock = threading.Lock()
        self.architecture = ""
        self.sizes: list[int] = []

    def on_train_begin(self, trainer: Trainer, epochs: int, steps_per_epoch: int) -> None:
        self.architecture, self.sizes = repr(trainer.model), list(trainer.model.sizes)
        self.epochs_planned, self.steps_per_epoch = epochs, steps_per_epoch
        self.first_epoch = trainer.epochs_done + 1
        # The loop appends to its own history; the page reads a slice of that list (appends are atomic).
        self._losses = trainer.history.iteration_loss
        with self._lock:
            self._epochs = [attrs.asdict(record) for record in trainer.history.epochs]
        self._snapshot(trainer)
        self.status = "training"

    def on_batch_end(self, trainer: Trainer, iteration: int, loss: float) -> None:
        if time.perf_counter() >= self._next_refresh:
            self._snapshot(trainer)

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        with self._lock:
            self._epochs.append(attrs.asdict(record))
        self._snapshot(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        self.status = "done"

    def fail(self, message: str) -> None:
        self.status, self.error = "failed", message

    def _snapshot(self, trainer: Trainer) -> None:
        first = next((layer for layer in trainer.model.layers if layer.parameter_shapes()), None)
        weight = first.parameters[first.weights[0]] if first is not None and first.weights else None
        if weight is not None and weight.ndim == 2:
            # One row per unit, so the page finds each unit's picture as one contiguous run of floats.
            data = np.ascontiguousarray(weight.T, dtype="<f4").tobytes()
            version = self._weights[0] + 1 if self._weights else 1
            self._weights = (version, int(weight.shape[1]), int(weight.shape[0]), data)
        self._next_refresh = time.perf_counter() + self.refresh_seconds

    def progress(self, since: int) -> dict[str, Any]:
        """Everything new since iteration ``since`` (the page sends how many losses it has)."""
        losses = self._losses[since:] if since >= 0 else []
        with self._lock:
            epochs = list(self._epochs)
        weights = self._weights
        return {
            "status": self.status,
            "error": self.error,
            "architecture": self.architecture,
            "description": self.description,
            "epochs_planned": self.epochs_planned,
            "first_epoch": self.first_epoch,
            "steps_per_epoch": self.steps_per_epoch,
            "since": since,
            "iteration_loss": losses,
            "epochs": epochs,
            "weights_version": weights[0] if weights else 0,
        }

    def weights(self) -> dict[str, Any]:
        """The latest first-layer snapshot: ``data`` is base64 little-endian float32, one row per unit."""
        weights = self._weights
        if weights is None:
            return {"version": 0, "units": 0, "inputs": 0, "data": ""}
        version, units, inputs, data = weights
        return {"version": version, "units": units, "inputs": inputs, "data": base64.b64encode(data).decode("ascii")}
