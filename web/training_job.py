"""One playground training run in a thread of its own, steered from the page: pause, step, slow motion, stop, rate.

The loop stays the core's :class:`~netkit.training.trainer.Trainer`; steering is a callback (:class:`Steering`)
that the loop calls after every batch. It is the only place the training thread waits, and the only place
it changes the trainer (the learning rate), so the server's threads never touch the model: they set flags
under a lock and the training thread acts on them between batches.

The file is saved atomically after every epoch (the core's :class:`~netkit.training.run.Checkpoint`) and once
more when the run ends or is stopped, so a stopped server or a closed page never leaves a broken file.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from netkit.errors import TrainingDiverged
from netkit.io import ModelFile, save_model
from netkit.training.run import Checkpoint, Run
from netkit.training.trainer import Trainer

from .live import TrainingProgress


class Stopped(Exception):
    """The user (or the time limit) ended the run; what it learned so far is saved."""


class Steering(TrainingProgress):
    """What the page polls for (the progress of ``netkit train --web``) plus the controls, checked every batch."""

    def __init__(self, description: str, training: dict[str, Any], delay: float, seconds: float, paused: bool) -> None:
        super().__init__(description)
        self.training = training  # the run's recorded options: a steered rate is written into them
        self._changed = threading.Condition()
        self.paused, self.delay, self.seconds_limit = paused, delay, seconds
        self.steps_allowed = 0
        self.stop_reason: str | None = None
        self.pending_rate: float | None = None
        self.steered_rate: float | None = None
        self.learning_rate: float | None = None
        self.held = False  # the training thread is waiting for resume or step
        self.trained_seconds = 0.0
        self._batch_started = time.perf_counter()

    # ---- asked from the server's threads --------------------------------------------------------------------
    def pause(self) -> None:
        with self._changed:
            self.paused = True

    def resume(self) -> None:
        with self._changed:
            self.paused, self.steps_allowed = False, 0
            self._changed.notify_all()

    def step(self) -> None:
        """Let exactly one more batch run (the run must be paused)."""
        with self._changed:
            self.steps_allowed += 1
            self._changed.notify_all()

    def stop(self, reason: str = "stopped") -> None:
        with self._changed:
            self.stop_reason = self.stop_reason or reason
            self._changed.notify_all()

    def set_rate(self, rate: float) -> None:
        with self._changed:
            self.pending_rate = rate
            self._changed.notify_all()

    def set_delay(self, seconds: float) -> None:
        with self._changed:
            self.delay = seconds
            self._changed.notify_all()

    def controls(self) -> dict[str, Any]:
        return {
            "paused": self.paused,
            "held": self.held,
            "delay_ms": round(self.delay * 1000),
            "learning_rate": self.learning_rate,
            "steered": self.steered_rate is not None,
            "stopping": self.stop_reason is not None,
            "trained_seconds": round(self.trained_seconds, 2),
            "seconds_limit": self.seconds_limit,
        }

    # ---- on the training thread ------------------------------------------------------------------------------
    def on_train_begin(self, trainer: Trainer, epochs: int, steps_per_epoch: int) -> None:
        super().on_train_begin(trainer, epochs, steps_per_epoch)
        self.learning_rate = trainer.optimizer.learning_rate
        with self._changed:  # a run started paused waits here, its first weights on show
            self._hold(trainer)
        self._batch_started = time.perf_counter()

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        if self.steered_rate is not None:  # the loop has just set this epoch's scheduled rate: steering wins
            trainer.optimizer.learning_rate = self.steered_rate
        self.learning_rate = trainer.optimizer.learning_rate

    def on_batch_end(self, trainer: Trainer, iteration: int, loss: float) -> None:
        super().on_batch_end(trainer, iteration, loss)
        self.trained_seconds += time.perf_counter() - self._batch_started
        with self._changed:
            if self.steps_allowed:
                self.steps_allowed -= 1
            if self.trained_seconds > self.seconds_limit:
                self.stop_reason = self.stop_reason or f"the time limit of {self.seconds_limit:g} s"
            if self.delay and not self.paused and self.stop_reason is None:
                self._changed.wait(self.delay)  # slow motion; a stop, pause or new delay wakes it early
            self._hold(trainer)
        self._batch_started = time.perf_counter()

    def on_epoch_end(self, trainer: Trainer, record: Any) -> None:
        if self.steered_rate is not None:  # the loop put the base rate back; the steered one is the base now
            trainer.optimizer.learning_rate = self.steered_rate
        super().on_epoch_end(trainer, record)

    def _hold(self, trainer: Trainer) -> None:
        """Apply a new rate, wait while paused (a step lets one batch through), stop when asked. Lock held."""
        self._apply_rate(trainer)
        if self.paused and not self.steps_allowed and self.stop_reason is None:
            self._snapshot(trainer)  # the weights on the page are the weights the run is paused at
            self.held = True
            while self.paused and not self.steps_allowed and self.stop_reason is None:
                self._changed.wait()
                self._apply_rate(trainer)
            self.held = False
        if self.stop_reason is not None:
            raise Stopped(self.stop_reason)

    def _apply_rate(self, trainer: Trainer) -> None:
        rate, self.pending_rate = self.pending_rate, None
        if rate is None:
            return
        # From now on the rate is the user's: a schedule would overrule it at the next epoch.
        trainer.schedule, self.steered_rate = None, rate
        trainer.optimizer.learning_rate = self.learning_rate = rate
        self.training.pop("schedule", None)
        self.training["optimizer"] = trainer.model.registry.spec_of("optimizers", trainer.optimizer)
        self.training.setdefault("steered_rates", []).append([len(trainer.history.iteration_loss), rate])


class TrainingJob:
    """A run, its thread and where it is saved; ``state`` is what the page shows."""

    def __init__(self, name: str, out: Path, run: Run, epochs: int, steering: Steering) -> None:
        self.name, self.out, self.run, self.epochs, self.steering = name, out, run, epochs, steering
        self.state = "training"
        self.saved = False
        self.checkpoint = Checkpoint(out, run.training, "hdf5")
        self.thread = threading.Thread(target=self._train, name=f"netkit-playground-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def _train(self) -> None:
        trainer = self.run.trainer
        try:
            self.run.train(self.epochs, [self.steering, self.checkpoint])
            self.state = "done"
        except Stopped as stopped:
            self.state = "stopped"
            self.steering.error = f"stopped by {stopped}" if str(stopped) != "stopped" else None
        except TrainingDiverged as exc:
            self.state = "failed"
            self.steering.fail(str(exc))
        except Exception as exc:  # never a dead thread without a word on the page
            self.state = "failed"
            self.steering.fail(f"{type(exc).__name__}: {exc}")
        finally:
            self._save_last(trainer)
            self.steering.status = "failed" if self.state == "failed" else "done"

    def _save_last(self, trainer: Trainer) -> None:
        """The model as it is now (mid-epoch after a stop), unless the last checkpoint already holds it."""
        if not trainer.history.iteration_loss:
            return
        if self.checkpoint.saved_epoch == trainer.epochs_done and self.state == "done":
            self.saved = True
            return
        try:
            save_model(ModelFile.from_trainer(trainer, self.run.training), self.out, format="hdf5")
            self.saved = True
        except Exception as exc:  # a full disk: the last epoch's checkpoint, if any, is still whole
            self.steering.fail(f"cannot save {self.out.name}: {exc}")
            self.saved = self.checkpoint.saved_epoch is not None

    def describe(self) -> dict[str, Any]:
        state = self.state
        if self.alive:
            steering = self.steering
            state = "stopping" if steering.stop_reason else "paused" if steering.paused else "training"
        return {
            "name": self.name,
            "file": self.out.name,
            "state": state,
            "saved": self.saved or self.checkpoint.saved_epoch is not None,
            "saved_epoch": self.checkpoint.saved_epoch,
        }
