"""The Python API and the training extras: ``fit(schedule=, augment=)`` as ``netkit train`` has them, and
``nk.load`` of a file that holds its best epoch (the model is that epoch; a fit goes on from the last), and
``fit(keep="best", patience=...)`` as ``netkit train --keep best --patience`` has them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import netkit as nk
from netkit.cli.main import cli
from netkit.data import Dataset
from netkit.io import load_model

from .test_keep_best import _adam, _csv, _train


def _seed_net(seed: int) -> nk.Sequential:
    return nk.Sequential(
        [nk.Dense(16, "sigmoid"), nk.Dense(16, "sigmoid"), nk.Dense(10, "softmax")], input_size=784, seed=seed
    )


def test_fit_with_a_schedule_and_augmentation_gives_netkit_trains_weights(
    mnist: Dataset, mnist_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cli.h5"
    recipe = ["--schedule", "exponential:decay=0.5", "--augment", "shift:pixels=1", "--keep", "last"]
    arguments = ["train", "--epochs", "2", "--seed", "5", "--optimizer", "mini-batch", "--lr", "0.3", *recipe]
    result = CliRunner().invoke(cli, [*arguments, "--out", str(out), "--data-dir", str(mnist_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    model = _seed_net(seed=5)
    history = model.fit(
        mnist.train_images, mnist.train_labels, epochs=2, optimizer="mini-batch", learning_rate=0.3,
        validation=0.1, schedule="exponential:decay=0.5", augment="shift:pixels=1", progress=False,
    )  # fmt: skip
    from_cli = load_model(out)
    np.testing.assert_array_equal(model.parameters, from_cli.model.parameters)
    assert list(history.learning_rate) == pytest.approx([0.3, 0.15])
    assert model.training["schedule"] == from_cli.training["schedule"]
    assert model.training["augment"] == from_cli.training["augment"]


def test_a_later_fit_keeps_the_schedule_and_refuses_another() -> None:
    model = nk.Sequential(["dense:units=4", "dense:units=3,activation=softmax"], input_size=6)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (40, 6)), rng.integers(0, 3, 40)
    model.fit(x, y, learning_rate=0.2, schedule="exponential:decay=0.5", progress=False)
    model.fit(x, y, progress=False)  # continues the schedule
    assert list(model.history.learning_rate) == pytest.approx([0.2, 0.1])
    with pytest.raises(nk.ConfigError, match="trains with schedule"):
        model.fit(x, y, schedule="cosine")
    with pytest.raises(nk.ConfigError, match="trains with augment 'none'"):
        model.fit(x, y, augment="shift")


def test_load_of_a_keep_best_file_gives_its_best_epoch_and_fit_goes_on_from_the_last(tmp_path: Path) -> None:
    dataset, out = _csv(tmp_path, noise=0.6), tmp_path / "m.h5"
    first = _train(*_adam(dataset, "32", "0.05"), "--epochs", "6", "--out", out)
    assert first["held_epoch"] < 6  # noisy labels: the validation loss turns upwards
    model = nk.load(out)
    np.testing.assert_array_equal(model.parameters, load_model(out).model.parameters)
    copy = tmp_path / "copy.h5"
    nk.save(model, copy)  # saved before training: still the best epoch, and still resumable from the last
    assert load_model(copy).training["held_epoch"] == first["held_epoch"]

    _train("--resume", "--epochs", "2", "--out", out)
    data = nk.datasets.load(dataset)
    model.fit(data.train_images, data.train_labels, epochs=2, progress=False)
    resumed = load_model(out)  # the run keeps its best epoch, in the API as in netkit train --resume
    np.testing.assert_array_equal(model.parameters, resumed.model.parameters)
    assert model.training["held_epoch"] == resumed.training["held_epoch"]
    again = nk.load(copy)
    again.fit(data.train_images, data.train_labels, epochs=2, progress=False)
    np.testing.assert_array_equal(again.parameters, model.parameters)


def _quadrant_net() -> nk.Sequential:
    """The net ``netkit train --layers 32`` builds for the 4x4 quadrant images: the same seed, the same weights."""
    return nk.Sequential([nk.Dense(32, "sigmoid"), nk.Dense(4, "softmax")], input_size=16, seed=0)


def test_fit_keeps_the_best_epoch_as_netkit_train_does_and_continues_from_the_last(tmp_path: Path) -> None:
    dataset, out = _csv(tmp_path, noise=0.6), tmp_path / "m.h5"
    first = _train(*_adam(dataset, "32", "0.05"), "--epochs", "6", "--out", out)
    data = nk.datasets.load(dataset)
    model = _quadrant_net()
    model.fit(
        data.train_images, data.train_labels, epochs=6, optimizer="adam", learning_rate=0.05,
        validation=0.3, keep="best", progress=False,
    )  # fmt: skip
    assert model.training["held_epoch"] == first["held_epoch"] < 6
    np.testing.assert_array_equal(model.parameters, load_model(out).model.parameters)
    assert model.evaluate(data.test_images, data.test_labels).accuracy == pytest.approx(first["test_accuracy"])

    _train("--resume", "--epochs", "3", "--out", out)
    model.fit(data.train_images, data.train_labels, epochs=3, progress=False)  # from epoch 6, not the best one
    np.testing.assert_array_equal(model.parameters, load_model(out).model.parameters)
    assert model.training["held_epoch"] == load_model(out).training["held_epoch"]
    with pytest.raises(nk.ConfigError, match="keeps its best epoch"):
        model.fit(data.train_images, data.train_labels, keep="last")


def test_fit_with_patience_stops_early_and_holds_the_best() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (200, 6)), rng.integers(0, 3, 200)  # random labels: validation loss soon rises
    model = nk.Sequential(["dense:units=16,activation=relu", "dense:units=3,activation=softmax"], input_size=6)
    history = model.fit(x, y, epochs=40, optimizer="adam", learning_rate=0.05, validation=0.3, patience=3)
    best = int(np.argmin(history.val_loss)) + 1
    assert len(history) == best + 3 < 40
    assert model.training["held_epoch"] == best
    with pytest.raises(nk.ConfigError, match="keep must be 'best' or 'last'"):
        nk.Sequential(["dense:units=3,activation=softmax"], input_size=6).fit(x, y, keep="middle", validation=0.3)
    with pytest.raises(nk.ConfigError, match="need validation rows"):
        nk.Sequential(["dense:units=3,activation=softmax"], input_size=6).fit(x, y, keep="best", validation=0)
