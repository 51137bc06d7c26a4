"""Assembly, shape checks, configs and the clear errors a user gets for wrong input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from netkit.errors import ConfigError, PluginError
from netkit.model.network import Network
from netkit.registry import default_registry

from .conftest import SEED_ARCHITECTURE


def test_seed_architecture_has_13002_weights_and_biases() -> None:
    model = Network(784, SEED_ARCHITECTURE)
    assert model.parameter_count == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10 == 13_002
    assert model.sizes == [784, 16, 16, 10]
    assert repr(model) == "784-16-16-10 (sigmoid, softmax)"


def test_any_number_of_layers_and_neurons() -> None:
    sizes = [7, 300, 1, 45, 12]
    model = Network(20, [{"type": "dense", "units": s, "activation": "relu"} for s in sizes], "mse")
    assert model.sizes == [20, *sizes]
    assert model.forward(np.zeros((3, 20), np.float32)).shape == (3, 12)


def test_parameters_are_float32_views_of_one_vector() -> None:
    model = Network(784, SEED_ARCHITECTURE)
    assert model.parameters.dtype == np.float32
    first_weight = model.parameter_views[0]["weight"]
    assert first_weight.shape == (784, 16) and np.shares_memory(first_weight, model.parameters)
    model.parameters[0] = 42.0
    assert first_weight[0, 0] == 42.0


def test_same_seed_same_weights_different_seed_different_weights() -> None:
    a = Network(784, SEED_ARCHITECTURE, rng=np.random.default_rng(5))
    b = Network(784, SEED_ARCHITECTURE, rng=np.random.default_rng(5))
    c = Network(784, SEED_ARCHITECTURE, rng=np.random.default_rng(6))
    np.testing.assert_array_equal(a.parameters, b.parameters)
    assert not np.array_equal(a.parameters, c.parameters)


def test_initialisation_follows_the_activation() -> None:
    relu = Network(1000, [{"type": "dense", "units": 500, "activation": "relu"}], "mse")
    sigmoid = Network(1000, [{"type": "dense", "units": 500, "activation": "sigmoid"}], "mse")
    he_std = np.sqrt(2 / 1000)
    xavier_std = np.sqrt(6 / 1500) / np.sqrt(3)  # the std of U(-limit, limit)
    assert np.std(relu.parameter_views[0]["weight"]) == pytest.approx(he_std, rel=0.02)
    assert np.std(sigmoid.parameter_views[0]["weight"]) == pytest.approx(xavier_std, rel=0.02)
    assert not relu.parameter_views[0]["bias"].any()


def test_config_round_trips_through_json() -> None:
    model = Network(
        784,
        [
            {"type": "dense", "units": 32, "activation": {"type": "leaky-relu", "slope": 0.2}},
            {"type": "dense", "units": 10, "activation": "softmax", "init": "he"},
        ],
        "cross-entropy",
    )
    config = json.loads(json.dumps(model.get_config()))
    rebuilt = Network.from_config(config)
    assert rebuilt.get_config() == model.get_config()
    assert rebuilt.layers[0].activation.slope == 0.2  # type: ignore[attr-defined]


def test_predict_returns_a_class_per_row_and_copies_outputs() -> None:
    model = Network(784, SEED_ARCHITECTURE)
    x = np.random.default_rng(0).uniform(0, 1, (25_000, 784)).astype(np.float32)
    probabilities = model.predict_proba(x)
    assert probabilities.shape == (25_000, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(model.predict(x), probabilities.argmax(axis=1))
    kept = probabilities.copy()
    np.testing.assert_allclose(model.predict_proba(x[:3]), probabilities[:3], rtol=1e-5)
    np.testing.assert_array_equal(probabilities, kept)  # not a layer buffer that the next call overwrites


@pytest.mark.parametrize("units", [0, -3, 2.5, "abc", True])
def test_layer_size_must_be_a_positive_whole_number(units: object) -> None:
    with pytest.raises(ConfigError, match="units"):
        Network(784, [{"type": "dense", "units": units}])


def test_unknown_plugin_names_list_the_available_ones() -> None:
    with pytest.raises(PluginError, match=r"unknown activation 'swishy'; available: .*sigmoid"):
        Network(784, [{"type": "dense", "units": 10, "activation": "swishy"}])
    with pytest.raises(PluginError, match=r"unknown loss 'hinge'; available: cross-entropy, mse"):
        Network(784, SEED_ARCHITECTURE, "hinge")
    with pytest.raises(PluginError, match="unknown layer 'conv'"):
        Network(784, ["conv:units=3"])


def test_bad_plugin_options_are_named() -> None:
    registry = default_registry()
    with pytest.raises(
        PluginError, match="unknown option 'slope' for activation 'sigmoid'; activation 'sigmoid' takes no options"
    ):
        registry.create("activations", "sigmoid:slope=2")
    with pytest.raises(PluginError, match=r"leaky-relu.*Received: slope=1.5"):
        registry.create("activations", "leaky-relu:slope=1.5")
    with pytest.raises(PluginError, match="expected key=value"):
        registry.create("optimizers", "adam:beta1")


@pytest.mark.parametrize("learning_rate", [-1, 0, float("nan"), float("inf")])
def test_learning_rate_must_be_positive(learning_rate: float) -> None:
    with pytest.raises(PluginError, match="learning_rate must be a positive number"):
        default_registry().create("optimizers", {"type": "mini-batch", "learning_rate": learning_rate})


def test_mismatched_input_shape_is_a_clear_error() -> None:
    model = Network(784, SEED_ARCHITECTURE)
    with pytest.raises(ConfigError, match=r"expects rows of 784 inputs, got shape \(5, 100\)"):
        model.predict(np.zeros((5, 100)))


@pytest.mark.parametrize("input_size", [0, -1, 3.5, "784", (28, 0), [], True])
def test_input_shape_must_be_positive_whole_numbers(input_size: object) -> None:
    with pytest.raises(ConfigError, match="input_shape"):
        Network(input_size, SEED_ARCHITECTURE)  # type: ignore[arg-type]


def test_a_model_needs_layers() -> None:
    with pytest.raises(ConfigError, match="at least one layer"):
        Network(784, [])
