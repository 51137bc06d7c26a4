"""``netkit train --textbook``: the textbook forms alone learn MNIST as well as the fast path."""

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
from netkit.plugins import layers
from netkit.plugins.textbook import layers as textbook_layers
from netkit.plugins.textbook import optimizers as textbook_optimizers
from netkit.registry import default_registry
from netkit.training.recipe import attach
from netkit.training.textbook_mode import textbook_trainer
from netkit.training.trainer import Trainer


def _train(out: Path, *extra: str) -> dict[str, Any]:
    arguments = ["train", "--epochs", "1", "--validation", "0", "--out", str(out), "--json", *extra]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def test_textbook_training_reaches_the_fast_accuracy_on_mnist(data_root: Path, tmp_path: Path) -> None:
    """One epoch of the seed net each way on the same seed: test accuracies within 0.3 points."""
    fast = _train(tmp_path / "fast.h5")
    textbook = _train(tmp_path / "textbook.h5", "--textbook")
    assert fast["test_accuracy"] > 0.85
    assert abs(textbook["test_accuracy"] - fast["test_accuracy"]) <= 0.003
    # The same file either way: twins are saved under their fast names and load as fast plugins.
    saved = load_model(tmp_path / "textbook.h5")
    assert saved.model.get_config() == load_model(tmp_path / "fast.h5").model.get_config()
    assert all(type(layer) is layers.Dense for layer in saved.model.layers if layer.parameter_shapes())


@pytest.mark.parametrize("optimizer", ["momentum:batch_size=16,lr=0.1", "adam:batch_size=16"])
def test_a_textbook_trainer_continues_the_fast_run(optimizer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Swapped in mid-run (weights stored transposed, optimiser state built up), it makes the fast run's steps."""
    monkeypatch.setattr(layers, "TRANSPOSED_WEIGHT_FROM_UNITS", 8)  # so that file order and memory order differ
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (64, 12)).astype(np.float32), rng.integers(0, 4, 64)
    specs = ["dense:units=9,activation=relu", "dense:units=4,activation=softmax"]
    fast = Trainer(Network(12, specs), default_registry().create("optimizers", optimizer), np.random.default_rng(1))
    fast.fit(images, labels, 2)
    shuffling = fast.rng.bit_generator.state
    twin = textbook_trainer(fast)
    assert all(type(layer) is textbook_layers.Dense for layer in twin.model.layers)
    assert isinstance(twin.optimizer, textbook_optimizers.MiniBatch)
    np.testing.assert_allclose(twin.model.predict_proba(images), fast.model.predict_proba(images), atol=1e-6)
    twin.fit(images, labels, 2)
    fast.rng = np.random.default_rng()
    fast.rng.bit_generator.state = shuffling  # the batches the twin saw
    fast.fit(images, labels, 2)
    np.testing.assert_allclose(twin.model.predict_proba(images), fast.model.predict_proba(images), atol=1e-5)
    assert len(twin.history.epochs) == len(fast.history.epochs) == 4


def test_a_textbook_trainer_keeps_the_runs_schedule_and_augmentation() -> None:
    """``--textbook`` with the default recipe: the same decaying rate and augmented batches as the fast run."""
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (64, 784)).astype(np.float32), rng.integers(0, 10, 64)
    registry = default_registry()
    fast = Trainer(
        Network(784, ["dense:units=6,activation=sigmoid", "dense:units=10,activation=softmax"]),
        registry.create("optimizers", "momentum:batch_size=16,lr=0.1"),
        np.random.default_rng(1),
    )
    attach(fast, {"schedule": {"type": "exponential", "decay": 0.5}, "augment": [{"type": "shift", "pixels": 1}]})
    shuffling = fast.rng.bit_generator.state
    twin = textbook_trainer(fast)
    twin.fit(images, labels, 3)
    fast.rng = np.random.default_rng()
    fast.rng.bit_generator.state = shuffling  # the batches and the augmentation draws the twin saw
    fast.fit(images, labels, 3)
    assert [epoch.learning_rate for epoch in twin.history.epochs] == pytest.approx([0.1, 0.05, 0.025])
    assert [epoch.learning_rate for epoch in fast.history.epochs] == pytest.approx([0.1, 0.05, 0.025])
    np.testing.assert_allclose(twin.model.predict_proba(images), fast.model.predict_proba(images), atol=1e-5)
