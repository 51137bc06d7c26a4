"""The model shipped inside the package: the seed architecture, trained by netkit itself, >= 96% on MNIST."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from netkit.cli.main import cli
from netkit.data import Dataset
from netkit.io import ModelFile, load_model, save_model
from netkit.model.evaluation import evaluate
from netkit.model.network import Network
from netkit.pretrained import pretrained_model_path
from netkit.registry import default_registry
from netkit.training.trainer import Trainer

from .conftest import SEED_ARCHITECTURE


def test_shipped_model_is_the_seed_architecture_and_small() -> None:
    path = pretrained_model_path()
    assert path.suffix == ".h5" and path.stat().st_size < 100_000
    model_file = load_model(path)
    assert repr(model_file.model) == "784-16-16-10 (sigmoid, softmax)"
    assert model_file.model.parameter_count == 13_002
    assert model_file.training["dataset"] == "mnist"  # made by `netkit train`, which records its options


def test_shipped_model_scores_at_least_96_percent_on_the_mnist_test_set(mnist: Dataset) -> None:
    model = load_model(pretrained_model_path()).model
    assert evaluate(model, mnist.test_images, mnist.test_labels).accuracy >= 0.96


def test_evaluate_without_a_model_uses_the_shipped_one(mnist_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["evaluate", "--data-dir", str(mnist_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accuracy"] >= 0.96


def test_export_slim_keeps_the_weights_and_drops_what_only_resuming_needs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (200, 784)).astype(np.float32), rng.integers(0, 10, 200)
    trainer = Trainer(Network(784, SEED_ARCHITECTURE), default_registry().create("optimizers", "adam"))
    trainer.fit(images, labels, 2)
    save_model(ModelFile.from_trainer(trainer, {"dataset": "mnist"}), tmp_path / "full.h5")
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "full.h5"), str(tmp_path / "slim.h5"), "--slim"])
    assert result.exit_code == 0, result.output
    slim = load_model(tmp_path / "slim.h5")
    assert slim.optimizer is None and slim.rng_state is None and slim.history.iteration_loss == []
    assert [e.epoch for e in slim.history.epochs] == [1, 2]
    np.testing.assert_array_equal(slim.model.predict_proba(images), trainer.model.predict_proba(images))
    assert (tmp_path / "slim.h5").stat().st_size < (tmp_path / "full.h5").stat().st_size
