"""See-inside calls: every layer's activations, one batch's true gradients, and fresh arrays out."""

from __future__ import annotations

import numpy as np
import pytest

from netkit.errors import ConfigError
from netkit.model.network import Network
from netkit.testing import assert_gradients_close, numerical_gradient

from .conftest import SEED_ARCHITECTURE

MIXED = [
    "dense:units=5,activation=tanh",
    "dense:units=4,activation=relu",
    "dense:units=3,activation=softmax",
]


def _batch(rows: int = 6, features: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.uniform(0, 1, (rows, features)), rng.integers(0, 3, rows)


@pytest.mark.parametrize("loss", ["cross-entropy", "mse"])
def test_backprop_matches_finite_differences(loss: str) -> None:
    model = Network(7, MIXED, loss, np.random.default_rng(1), dtype=np.float64)
    x, labels = _batch()
    result = model.backprop(x, labels)
    target = np.eye(3)[labels]

    def loss_now() -> float:
        return float(model.loss.value(model.forward(x), target))

    assert result.loss == pytest.approx(loss_now())
    assert list(result.gradients) == ["dense_1", "dense_2", "dense_3"]
    for name, views in zip(model.layer_names, model.parameter_views, strict=True):
        for parameter, view in views.items():
            numeric = numerical_gradient(loss_now, view)
            assert_gradients_close(result.gradients[name][parameter], numeric, f"{name}.{parameter}")


def test_backprop_is_the_true_gradient_whatever_the_optimizer_scale() -> None:
    """A wide layer is stored transposed in memory: its gradient still comes back (inputs, units), unscaled."""
    model = Network(3, ["dense:units=600,activation=sigmoid", "dense:units=2,activation=softmax"], dtype=np.float64)
    x = np.random.default_rng(0).uniform(0, 1, (4, 3))
    labels = np.array([0, 1, 1, 0])
    gradient = model.backprop(x, labels).gradients["dense_1"]["weight"]
    assert gradient.shape == (3, 600) and gradient.flags.c_contiguous

    def loss_now() -> float:
        return float(model.loss.value(model.forward(x), np.eye(2)[labels]))

    stored = model.parameter_views[0]["weight"].T  # the (units, inputs) block as memory holds it
    assert stored.flags.c_contiguous
    numeric = numerical_gradient(loss_now, stored).T
    assert_gradients_close(gradient, numeric, "dense_1.weight")


def test_backprop_changes_no_parameter_and_returns_copies() -> None:
    model = Network(7, MIXED, rng=np.random.default_rng(2))
    before = model.parameters.copy()
    x, labels = _batch()
    first = model.backprop(x, labels)
    kept = {name: {key: value.copy() for key, value in views.items()} for name, views in first.gradients.items()}
    np.testing.assert_array_equal(model.parameters, before)
    for views in first.gradients.values():
        for array in views.values():
            assert not np.shares_memory(array, model.gradients)
            assert not np.shares_memory(array, model.parameters)
    model.backprop(x[::-1].copy(), labels[::-1].copy())  # a second call must not change the first result
    for name, views in kept.items():
        for key, value in views.items():
            np.testing.assert_array_equal(first.gradients[name][key], value)


def test_activations_are_each_layer_output_as_fresh_arrays() -> None:
    model = Network(784, SEED_ARCHITECTURE)
    x = np.random.default_rng(4).uniform(0, 1, (3, 784))
    outputs = model.activations(x)
    assert [output.shape for output in outputs] == [(3, 16), (3, 16), (3, 10)]
    np.testing.assert_allclose(outputs[-1], model.predict_proba(x), rtol=1e-6)
    assert np.all((outputs[0] > 0) & (outputs[0] < 1))  # sigmoid units
    kept = [output.copy() for output in outputs]
    model.activations(np.zeros((3, 784)))
    model.forward(np.ones((3, 784), np.float32))
    for output, copy in zip(outputs, kept, strict=True):
        np.testing.assert_array_equal(output, copy)


def test_one_image_as_a_flat_row_is_accepted() -> None:
    model = Network(784, SEED_ARCHITECTURE)
    image = np.random.default_rng(5).uniform(0, 1, 784)
    assert [output.shape for output in model.activations(image)] == [(1, 16), (1, 16), (1, 10)]
    assert model.predict(image).shape == (1,)


def test_predict_and_predict_proba_do_not_share_buffers() -> None:
    model = Network(784, SEED_ARCHITECTURE)
    rng = np.random.default_rng(6)
    first, second = rng.uniform(0, 1, (2, 5, 784))
    p1, p2 = model.predict_proba(first), model.predict_proba(second)
    assert not np.shares_memory(p1, p2)
    assert not np.array_equal(p1, p2)
    np.testing.assert_array_equal(model.predict(first), p1.argmax(axis=1))


def test_backprop_refuses_labels_that_do_not_fit() -> None:
    model = Network(7, MIXED)
    x, labels = _batch()
    with pytest.raises(ConfigError, match="one whole-number label per row"):
        model.backprop(x, labels[:-1])
    with pytest.raises(ConfigError, match="one whole-number label per row"):
        model.backprop(x, labels.astype(float))


@pytest.mark.parametrize("rows", [1, 1023, 1025, 2049])
def test_predict_proba_in_chunks_equals_one_forward_pass(rows: int) -> None:
    model = Network(784, SEED_ARCHITECTURE)
    x = np.random.default_rng(7).uniform(0, 1, (rows, 784)).astype(np.float32)
    whole = model.forward(x).copy()
    np.testing.assert_allclose(model.predict_proba(x), whole, rtol=1e-5, atol=1e-7)


def test_predict_proba_on_many_rows_follows_changed_parameters() -> None:
    model = Network(784, SEED_ARCHITECTURE)
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 1, (5_000, 784)).astype(np.float32)
    before = model.predict_proba(x)
    model.parameters[...] = rng.normal(0, 0.1, model.parameters.shape)
    after = model.predict_proba(x)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, model.forward(x).copy(), rtol=1e-5, atol=1e-7)
