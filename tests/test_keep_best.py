"""Keep-best and early stopping: the file holds the epoch with the lowest validation loss, and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from netkit.cli.main import cli
from netkit.io import load_model
from netkit.model.network import Network
from netkit.registry import default_registry
from netkit.training.keepbest import KeepBest, snapshot
from netkit.training.trainer import Callback, EpochRecord, Trainer


def _record(epoch: int, val_loss: float | None) -> EpochRecord:
    return EpochRecord(epoch, 1.0, val_loss, 0.5, 0.1, 100.0)


class _Parameters(Callback):
    """The parameters after every epoch, to compare files against."""

    def __init__(self) -> None:
        self.after: dict[int, np.ndarray] = {}

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        self.after[record.epoch] = trainer.model.parameters.copy()


def test_best_is_the_lowest_validation_loss_improved_by_more_than_min_delta() -> None:
    keeper = KeepBest(min_delta=0.05)
    keeper.resume([_record(1, 1.0), _record(2, 0.97), _record(3, 0.9), _record(4, 0.88)], np.zeros(3))
    assert keeper.best_epoch == 3 and keeper.best_loss == 0.9  # 0.97 and 0.88 improve by 0.05 or less


def test_patience_stops_the_fit_after_that_many_epochs_without_a_better_loss() -> None:
    keeper = KeepBest(patience=2)
    trainer = Trainer(Network(4, ["dense:units=2,activation=softmax"]), default_registry().create("optimizers", "adam"))
    for epoch, loss in enumerate([0.5, 0.4, 0.45, 0.41], start=1):
        keeper.on_epoch_end(trainer, _record(epoch, loss))
        assert trainer.stop_requested == (epoch == 4)
    assert keeper.stopped_at == 4 and keeper.best_epoch == 2


def _noisy_fit(epochs: int, callbacks: list[Callback]) -> Trainer:
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (120, 16)).astype(np.float32), rng.integers(0, 3, 120)
    validation = (rng.uniform(0, 1, (60, 16)).astype(np.float32), rng.integers(0, 3, 60))
    model = Network(16, ["dense:units=32", "dense:units=3,activation=softmax"], rng=np.random.default_rng(1))
    trainer = Trainer(model, default_registry().create("optimizers", "adam:learning_rate=0.05"))
    trainer.fit(images, labels, epochs, validation, callbacks)
    return trainer


def test_the_snapshot_holds_the_best_epoch_and_resumes_from_the_last(tmp_path: Path) -> None:
    keeper, seen = KeepBest(), _Parameters()
    trainer = _noisy_fit(8, [keeper, seen])  # random labels: the validation loss rises after a while
    losses = [record.val_loss for record in trainer.history.epochs]
    best = int(np.argmin(losses)) + 1
    assert keeper.best_epoch == best < 8
    model_file = snapshot(trainer, {"dataset": "x"}, keeper)
    assert model_file.training["held_epoch"] == best
    from netkit.io import save_model

    save_model(model_file, tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(loaded.model.parameters, seen.after[best])
    assert loaded.training["held_epoch"] == best
    resumed = loaded.to_trainer()
    np.testing.assert_array_equal(resumed.model.parameters, seen.after[8])


def _csv(tmp_path: Path, noise: float = 0.0) -> str:
    """A small learnable dataset: 4x4 images whose bright quadrant is the class (``noise``: labels made random)."""
    rng = np.random.default_rng(0)
    rows = []
    for index in range(600):
        label = index % 4
        shown = int(rng.integers(0, 4)) if rng.uniform() < noise else label
        image = rng.uniform(0, 0.3, (4, 4))
        image[(label // 2) * 2 : (label // 2) * 2 + 2, (label % 2) * 2 : (label % 2) * 2 + 2] += 0.7
        rows.append(",".join([str(shown), *(f"{value:.3f}" for value in image.ravel())]))
    path = tmp_path / "quadrants.csv"
    path.write_text("\n".join(rows) + "\n")
    return f"csv:path={path}"


def _train(*args: object) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["train", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def _adam(dataset: str, units: str, rate: str) -> list[str]:
    """A one-hidden-layer net trained by Adam, with 30% of the rows for validation."""
    return ["--dataset", dataset, "--layers", units, "--optimizer", "adam", "--lr", rate, "--validation", "0.3"]


def test_with_a_validation_set_the_file_holds_the_best_epoch_and_says_so(tmp_path: Path) -> None:
    dataset, out = _csv(tmp_path), tmp_path / "m.h5"
    result = _train(*_adam(dataset, "8", "0.3"), "--epochs", "8", "--out", out)
    losses = [epoch["val_loss"] for epoch in result["history"]["epochs"]]
    best = int(np.argmin(losses)) + 1
    assert result["held_epoch"] == best
    assert load_model(out).training["held_epoch"] == best
    assert load_model(out).training["keep"] == "best"
    inspected = CliRunner().invoke(cli, ["inspect", str(out)])
    assert f"holds epoch {best} of 8" in inspected.output


def test_keep_last_holds_the_last_epoch(tmp_path: Path) -> None:
    dataset, out = _csv(tmp_path), tmp_path / "m.h5"
    result = _train("--dataset", dataset, "--layers", "8", "--epochs", "3", "--keep", "last", "--out", out)
    assert result["held_epoch"] == 3 and load_model(out).training["held_epoch"] == 3


def test_early_stopping_stops_and_keeps_the_best_epoch(tmp_path: Path) -> None:
    dataset, out = _csv(tmp_path, noise=0.5), tmp_path / "m.h5"
    result = _train(*_adam(dataset, "64", "0.05"), "--epochs", "40", "--patience", "2", "--out", out)
    epochs = result["history"]["epochs"]
    losses = [epoch["val_loss"] for epoch in epochs]
    best = int(np.argmin(losses)) + 1
    assert len(epochs) == best + 2 < 40  # stopped two epochs after the best
    assert result["held_epoch"] == best


@pytest.mark.parametrize("options", [["--patience", "3"], ["--augment", "shift:pixels=1", "--dropout", "0.2"]])
def test_resume_with_keep_best_equals_an_uninterrupted_run(tmp_path: Path, options: list[str]) -> None:
    dataset = _csv(tmp_path)
    common = [*_adam(dataset, "8", "0.3"), "--schedule", "cosine:epochs=8", *options]
    whole = _train(*common, "--epochs", "8", "--out", tmp_path / "whole.h5")
    _train(*common, "--epochs", "4", "--out", tmp_path / "parts.h5")
    parts = _train("--epochs", "4", "--out", tmp_path / "parts.h5", "--resume")
    assert parts["history"]["iteration_loss"] == whole["history"]["iteration_loss"]
    assert [e["val_loss"] for e in parts["history"]["epochs"]] == [e["val_loss"] for e in whole["history"]["epochs"]]
    assert parts["held_epoch"] == whole["held_epoch"]
    np.testing.assert_array_equal(
        load_model(tmp_path / "parts.h5").model.parameters, load_model(tmp_path / "whole.h5").model.parameters
    )
