"""L2 weight decay and max-norm, options of every optimiser: the gradient they add, the limit they keep."""

from __future__ import annotations

import numpy as np
import pytest

from netkit.model.network import Network
from netkit.registry import default_registry
from netkit.testing import assert_gradients_close, check_training_twin, numerical_gradient
from netkit.training.regularisation import decay, limit_norms, weight_pairs
from netkit.training.trainer import Trainer

OPTIMIZERS = ["full-batch", "mini-batch", "stochastic", "momentum", "adam"]


def test_weight_decay_adds_the_gradient_of_half_lambda_times_the_squared_weights() -> None:
    model = Network(
        5,
        ["dense:units=4,activation=tanh", "dense:units=3,activation=softmax"],
        rng=np.random.default_rng(0),
        dtype=np.float64,
    )
    rng = np.random.default_rng(1)
    x, labels = rng.uniform(0, 1, (6, 5)), rng.integers(0, 3, 6)
    target = np.eye(3)[labels]
    weights = [layer.parameters["weight"] for layer in model.layers]
    strength = 0.3

    def regularised_loss() -> float:
        penalty = 0.5 * strength * sum(float(np.sum(w * w)) for w in weights)
        return model.loss.value(model.forward(x, True), target) + penalty

    model.backprop(x, labels)  # fills model.gradients with dL/dparameters, as a training step does
    pairs = weight_pairs(model.layers)
    decay(pairs, strength, [np.empty_like(weight) for weight, _ in pairs])
    analytic = model.gradients.copy()
    assert_gradients_close(analytic, numerical_gradient(regularised_loss, model.parameters), "weight decay")


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimiser_takes_both_options_and_leaves_its_plain_config_alone(optimizer: str) -> None:
    registry = default_registry()
    plain = registry.spec_of("optimizers", registry.create("optimizers", optimizer))
    assert "weight_decay" not in plain and "max_norm" not in plain
    constrained = registry.create("optimizers", f"{optimizer}:weight_decay=0.001,max_norm=3")
    spec = registry.spec_of("optimizers", constrained)
    assert spec["weight_decay"] == 0.001 and spec["max_norm"] == 3.0
    assert registry.spec_of("optimizers", registry.create("optimizers", spec)) == spec
    with pytest.raises(Exception, match="Received: max_norm=-1"):
        registry.create("optimizers", f"{optimizer}:max_norm=-1")


def _fit(optimizer: str, epochs: int = 3) -> Trainer:
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (200, 20)).astype(np.float32), rng.integers(0, 4, 200)
    model = Network(
        20, ["dense:units=16,activation=relu", "dense:units=4,activation=softmax"], rng=np.random.default_rng(1)
    )
    trainer = Trainer(model, default_registry().create("optimizers", optimizer))
    trainer.fit(images, labels, epochs)
    return trainer


def test_max_norm_keeps_every_units_incoming_weights_within_the_limit() -> None:
    free = _fit("mini-batch:learning_rate=2")
    limited = _fit("mini-batch:learning_rate=2,max_norm=0.5")
    for layer in free.model.layers[:1]:
        assert np.linalg.norm(layer.parameters["weight"], axis=0).max() > 0.5  # the limit binds here
    for layer in limited.model.layers:
        assert np.linalg.norm(layer.parameters["weight"], axis=0).max() <= 0.5 + 1e-5


def test_weight_decay_shrinks_the_weights() -> None:
    free, decayed = _fit("momentum"), _fit("momentum:weight_decay=0.5")
    for free_layer, decayed_layer in zip(free.model.layers, decayed.model.layers, strict=True):
        assert np.linalg.norm(decayed_layer.parameters["weight"]) < 0.8 * np.linalg.norm(
            free_layer.parameters["weight"]
        )


@pytest.mark.parametrize("optimizer", ["mini-batch:weight_decay=0.01,max_norm=1", "adam:weight_decay=0.01,max_norm=1"])
def test_constrained_training_equals_its_textbook_twin(optimizer: str) -> None:
    specs = ["dense:units=7,activation=relu", "dropout:rate=0.3", "dense:units=3,activation=softmax"]
    check_training_twin(6, specs, "cross-entropy", optimizer, steps=4)


@pytest.mark.parametrize("transposed", [False, True])
def test_the_fast_constraints_equal_their_formulas(transposed: bool) -> None:
    """limit_norms and decay (no temporaries) against W x min(1, c / ||W[:, j]||) and g + lambda W."""
    rng = np.random.default_rng(5)
    weight = rng.normal(0, 1, (40, 9)).astype(np.float32)
    if transposed:  # a wide layer keeps W as (units, inputs) rows in memory
        weight = np.asfortranarray(weight)
    gradient = rng.normal(0, 1, weight.shape).astype(np.float32)
    lengths = np.linalg.norm(weight, axis=0)
    expected_weight = weight * np.minimum(1.0, 6.0 / lengths)
    expected_gradient = gradient + 0.1 * weight
    assert (lengths > 6.0).any() and (lengths <= 6.0).any()  # some columns are limited, some are not
    decay([(weight, gradient)], 0.1, [np.empty_like(weight)])
    limit_norms([(weight, gradient)], 6.0)
    np.testing.assert_allclose(weight, expected_weight, rtol=1e-6)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)
