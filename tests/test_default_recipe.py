"""The default recipe follows one rule: momentum for sigmoid and tanh hidden units, Adam for every other
network; the same in ``netkit train`` and ``model.fit``, and on real data no worse than plain mini-batch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import netkit as nk
from netkit.cli.main import cli
from netkit.io import load_model
from netkit.training.defaults import choose_recipe

ADAM = ("adam", 0.003, "exponential:decay=0.7")
MOMENTUM = ("momentum", 0.1, "exponential:decay=0.7")


@pytest.mark.parametrize(
    ("activations", "recipe"),
    [
        (["sigmoid", "sigmoid"], MOMENTUM),  # the seed net
        (["tanh"], MOMENTUM),
        (["relu"], ADAM),
        (["leaky-relu", None], ADAM),  # dropout layers have no activation
        (["relu", None], ADAM),  # a conv layer, then max pooling
        ([], ADAM),  # no hidden layer
    ],
)
def test_the_recipe_follows_the_hidden_activations(activations: list[str | None], recipe: tuple) -> None:
    assert choose_recipe(None, None, None, activations) == recipe


def test_naming_any_part_of_the_recipe_leaves_the_rest_plain() -> None:
    assert choose_recipe(None, 0.2, None, ["relu"]) == ("mini-batch", 0.2, None)
    assert choose_recipe("adam", None, None, ["sigmoid"]) == ("adam", None, None)


def test_fit_chooses_adam_for_a_relu_net_and_momentum_for_a_sigmoid_net() -> None:
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (64, 5)).astype(np.float32), np.arange(64) % 2
    for activation, (name, rate, _) in (("relu", ADAM), ("sigmoid", MOMENTUM)):
        model = nk.Sequential([nk.Dense(4, activation), nk.Dense(2, "softmax")], input_size=5)
        model.fit(images, labels, epochs=1, progress=False)
        assert model.training["optimizer"]["type"] == name and model.training["optimizer"]["learning_rate"] == rate
        assert model.training["schedule"]["type"] == "exponential" and model.training["schedule"]["decay"] == 0.7


def test_netkit_train_chooses_adam_for_a_conv_net(tmp_path: Path, data_root: Path) -> None:
    arguments = ["train", "--layer", "conv2d:filters=2,kernel=5", "--layer", "maxpool2d:size=4", "--epochs", "1"]
    result = CliRunner().invoke(cli, [*arguments, "--validation", "0", "--out", str(tmp_path / "c.h5"), "-q"])
    assert result.exit_code == 0, result.output
    assert load_model(tmp_path / "c.h5").training["optimizer"]["type"] == "adam"


def test_a_relu_net_on_mnist_beats_the_old_default_with_the_new_one(tmp_path: Path, data_root: Path) -> None:
    """`netkit train --layers 64 --activation relu --epochs 2`: 96.95% with seed 0 (docs/recipes.md), where
    the momentum recipe gave 96.09% and plain mini-batch 0.5 gave 96.86%."""
    arguments = ["train", "--layers", "64", "--activation", "relu", "--epochs", "2", "--json"]
    result = CliRunner().invoke(cli, [*arguments, "--out", str(tmp_path / "relu.h5")])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["test_accuracy"] >= 0.965, record["test_accuracy"]
    assert [epoch["learning_rate"] for epoch in record["history"]["epochs"]] == [0.003, 0.003 * 0.7]
