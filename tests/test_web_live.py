"""The training callback behind ``--web``: what the page polls for, refreshed as promised."""

from __future__ import annotations

import base64

import numpy as np

from netkit.model.network import Network
from netkit.training.trainer import Trainer
from netkit.web.live import TrainingProgress


def _small_run() -> tuple[Trainer, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    images = rng.random((120, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 120)
    model = Network(784, ["dense:units=6", "dense:units=10,activation=softmax"], "cross-entropy")
    optimizer = model.registry.create("optimizers", "mini-batch:batch_size=20,learning_rate=0.1")
    return Trainer(model, optimizer), images, labels


def test_progress_reports_every_iteration_loss_and_epoch() -> None:
    trainer, images, labels = _small_run()
    progress = TrainingProgress("test run", refresh_seconds=3600)
    trainer.fit(images, labels, 3, callbacks=[progress])
    report = progress.progress(0)
    assert report["status"] == "done" and report["steps_per_epoch"] == 6
    assert report["iteration_loss"] == trainer.history.iteration_loss and len(report["iteration_loss"]) == 18
    assert [epoch["epoch"] for epoch in report["epochs"]] == [1, 2, 3]
    assert progress.progress(15)["iteration_loss"] == trainer.history.iteration_loss[15:]


def test_weights_refresh_at_every_epoch_end_even_when_epochs_are_quick() -> None:
    trainer, images, labels = _small_run()
    progress = TrainingProgress("test run", refresh_seconds=3600)
    trainer.fit(images, labels, 4, callbacks=[progress])
    # One snapshot when training begins, one per epoch; the hour-long timer never fired.
    assert progress.progress(0)["weights_version"] == 5


def test_weights_refresh_within_an_epoch_when_it_runs_long() -> None:
    trainer, images, labels = _small_run()
    progress = TrainingProgress("test run", refresh_seconds=0.0)  # every batch is "too long since"
    trainer.fit(images, labels, 1, callbacks=[progress])
    assert progress.progress(0)["weights_version"] == 1 + 6 + 1


def test_the_weight_snapshot_is_the_first_layer_one_row_per_unit() -> None:
    trainer, images, labels = _small_run()
    progress = TrainingProgress("test run")
    trainer.fit(images, labels, 1, callbacks=[progress])
    snapshot = progress.weights()
    assert (snapshot["units"], snapshot["inputs"]) == (6, 784)
    rows = np.frombuffer(base64.b64decode(snapshot["data"]), dtype="<f4").reshape(6, 784)
    np.testing.assert_array_equal(rows, trainer.model.layers[0].parameters["weight"].T)


def test_a_failed_run_says_why() -> None:
    progress = TrainingProgress("test run")
    progress.fail("the loss became nan")
    assert progress.progress(0)["status"] == "failed" and progress.progress(0)["error"] == "the loss became nan"
