"""``model.trace``: one learning step whose every number is the true one, on a copy of the model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import netkit as nk
from netkit.model.network import Network
from netkit.model.trace import LayerTrace
from netkit.testing import numerical_gradient


def loss_from(model: Network, start: int, values: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]) -> float:
    """The loss when ``values`` enter layer ``start`` (the layers above it run as usual)."""
    for layer in model.layers[start:]:
        values = layer.forward(values, False)
    target = np.eye(model.output_size)[labels]
    return float(model.loss.value(values, target))


def check_layer_gradients(model: Network, index: int, traced: LayerTrace, x: Any, labels: Any) -> None:
    """dL/dx, dL/da, dL/dz and every dL/dparameter of one traced layer against finite differences."""
    inputs, outputs = traced.x.copy(), traced.a.copy()
    numeric_dx = numerical_gradient(lambda: loss_from(model, index, inputs, labels), inputs)
    np.testing.assert_allclose(traced.dl_dx, numeric_dx, atol=1e-7)
    numeric_da = numerical_gradient(lambda: loss_from(model, index + 1, outputs, labels), outputs)
    np.testing.assert_allclose(traced.dl_da, numeric_da, atol=1e-7)
    if traced.z is not None:
        z, activation = traced.z.copy(), model.layers[index].activation
        numeric_dz = numerical_gradient(lambda: loss_from(model, index + 1, activation.forward(z), labels), z)
        np.testing.assert_allclose(traced.dl_dz, numeric_dz, atol=1e-7)
    for name, view in model.parameter_views[index].items():
        numeric = numerical_gradient(lambda: model.backprop(x, labels).loss, view)
        np.testing.assert_allclose(traced.gradients[name], numeric, atol=1e-7)


# The keys `netkit trace --json` and `Trace.to_dict()` promise (README); the CLI test checks them too.
PROMISED_KEYS = (
    "layers",
    "loss_before",
    "loss_after",
    "prediction_before",
    "prediction_after",
    "probabilities_before",
    "probabilities_after",
    "learning_rate",
    "unit",
)


def small_model(output: str = "softmax", loss: str = "cross-entropy", hidden: str = "sigmoid") -> nk.Sequential:
    layers = [f"dense:units=5,activation={hidden}", "dropout:rate=0.2", f"dense:units=3,activation={output}"]
    return nk.Sequential(layers, loss, input_shape=(1, 2, 3), seed=1, dtype=np.float64)


def rows(count: int = 2) -> np.ndarray[Any, Any]:
    return np.random.default_rng(3).uniform(0, 1, (count, 1, 2, 3))


@pytest.mark.parametrize(
    ("output", "loss", "hidden"), [("softmax", "cross-entropy", "sigmoid"), ("tanh", "mse", "relu")]
)
def test_every_gradient_in_a_trace_matches_numerical_gradient(output: str, loss: str, hidden: str) -> None:
    model = small_model(output, loss, hidden)
    x, labels = rows(), np.array([2, 0])
    trace = model.trace(x, labels)
    assert [layer.name for layer in trace.layers] == ["flatten_1", "dense_1", "dropout_1", "dense_2"]
    for index, traced in enumerate(trace.layers):
        check_layer_gradients(model, index, traced, x, labels)
    dense = trace.layer("dense_1")
    assert dense.dl_dw is dense.gradients["weight"] and dense.dl_db is dense.gradients["bias"]


def test_the_trace_agrees_with_the_fast_models_backprop() -> None:
    model = nk.Sequential(["dense:units=16", "dense:units=10,activation=softmax"], input_shape=(1, 28, 28), seed=0)
    x = np.random.default_rng(0).uniform(0, 1, (1, 1, 28, 28)).astype(np.float32)
    trace, fast = model.trace(x, 7), model.backprop(x, np.array([7]))
    assert trace.loss_before == pytest.approx(fast.loss, rel=1e-5)
    for name in ("dense_1", "dense_2"):
        for parameter, gradient in fast.gradients[name].items():
            np.testing.assert_allclose(trace.layer(name).gradients[parameter], gradient, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(trace.probabilities_before, model.predict_proba(x), rtol=1e-5)


def test_a_plain_gradient_descent_update_is_p_minus_rate_times_gradient() -> None:
    model = small_model()
    trace = model.trace(rows(), np.array([1, 2]), learning_rate=0.3)
    assert trace.learning_rate == 0.3
    for layer in trace.layers:
        for name, before in layer.parameters_before.items():
            np.testing.assert_allclose(layer.parameters_after[name], before - 0.3 * layer.gradients[name], rtol=1e-12)


def test_loss_after_is_a_fresh_forward_pass_of_the_updated_copy() -> None:
    model = small_model()
    x, labels = rows(), np.array([1, 2])
    trace = model.trace(x, labels, learning_rate=0.5)
    updated = small_model()
    for views, layer in zip(updated.parameter_views, trace.layers, strict=True):
        for name, view in views.items():
            view[...] = layer.parameters_after[name]
    probabilities = updated.predict_proba(x)
    np.testing.assert_allclose(trace.probabilities_after, probabilities, rtol=1e-12)
    assert trace.loss_after == pytest.approx(updated.backprop(x, labels).loss, rel=1e-12)
    assert trace.loss_after < trace.loss_before
    np.testing.assert_array_equal(trace.prediction_after, probabilities.argmax(axis=1))


def test_a_trace_leaves_the_model_and_its_optimizer_unchanged() -> None:
    model = small_model()
    images = np.random.default_rng(5).uniform(0, 1, (40, 1, 2, 3))
    model.fit(images, np.arange(40) % 3, epochs=1, optimizer="adam", progress=False, validation=0)
    parameters, state = model.parameters.copy(), model.optimizer.state() if model.optimizer else {}
    predictions = model.predict_proba(images)
    model.trace(images[:2], np.array([0, 1]), unit="1:0")
    np.testing.assert_array_equal(model.parameters, parameters)
    np.testing.assert_array_equal(model.predict_proba(images), predictions)
    assert model.optimizer is not None
    for key, value in model.optimizer.state().items():
        np.testing.assert_array_equal(value, state[key])


def test_a_fitted_model_traces_the_step_its_own_optimizer_would_take() -> None:
    model = small_model()
    images = np.random.default_rng(5).uniform(0, 1, (40, 1, 2, 3))
    model.fit(images, np.arange(40) % 3, epochs=1, optimizer="momentum:beta=0.5", progress=False, validation=0)
    assert model.optimizer is not None
    velocity = model.optimizer.state()["velocity"]
    trace = model.trace(images[:1], 0)
    assert "momentum" in trace.optimizer and trace.learning_rate == model.optimizer.learning_rate
    offset = 0
    for layer in trace.layers:
        for name, gradient in layer.gradients.items():
            previous = velocity[offset : offset + gradient.size].reshape(gradient.shape)
            offset += gradient.size
            expected = -(0.5 * previous + trace.learning_rate * gradient)
            np.testing.assert_allclose(layer.changes[name], expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("layer", ["dense_1", "dense_2"])
def test_a_units_written_out_sum_equals_its_z(layer: str) -> None:
    model = small_model()
    units = 5 if layer == "dense_1" else 3
    for unit in range(units):
        trace = model.trace(rows(1), 2, unit=f"{layer}:{unit}")
        written = trace.unit
        assert written is not None and (written.layer, written.unit) == (layer, unit)
        assert written.written_sum == pytest.approx(written.z, abs=1e-12)
        assert written.z == trace.layer(layer).z[0, unit]  # type: ignore[index]
        chain = sum(g * d for _, g, d in written.chain_terms)
        assert chain == pytest.approx(written.dl_dz, abs=1e-12)
        text = str(written)
        assert f"{layer} unit {unit}" in text and "dL/dz" in text


def test_units_are_named_or_numbered_and_bad_ones_say_what_exists() -> None:
    model = small_model()
    x = rows(1)
    assert model.trace(x, 0, unit="2:1").unit.layer == "dense_2"  # type: ignore[union-attr]
    assert model.trace(x, 0, unit=("dense_1", 4)).unit.unit == 4  # type: ignore[union-attr]
    with pytest.raises(nk.ConfigError, match=r"dense_2 has units 0..2, not 99"):
        model.trace(x, 0, unit="2:99")
    with pytest.raises(nk.ConfigError, match="no layer 3"):
        model.trace(x, 0, unit="3:0")
    with pytest.raises(nk.ConfigError, match="no layer 'dropout_1' with weighted sums; choose one of dense_1, dense_2"):
        model.trace(x, 0, unit="dropout_1:0")
    with pytest.raises(nk.ConfigError, match=r"label 10 is not a class of this model: its classes are 0..2"):
        model.trace(x, 10)


def test_the_json_form_has_every_key_the_cli_promises() -> None:
    trace = small_model().trace(rows(1), 1, unit="1:0")
    data = trace.to_dict()
    assert set(PROMISED_KEYS) <= set(data)
    layer = data["layers"][1]
    for key in ("name", "input_shape", "output_shape", "z", "a", "dL_da", "dL_dz", "dL_dW", "dL_db"):
        assert key in layer
    assert isinstance(data["prediction_before"], int) and len(data["probabilities_after"]) == 3
    assert np.array(layer["dL_dW"]).shape == (6, 5)


def test_a_trace_renders_as_html_for_notebooks() -> None:
    trace = small_model().trace(rows(1), 1, unit="2:1")
    page = trace._repr_html_()
    assert page.count("<details>") == len(trace.layers)
    assert "dense_2 unit 1" in page and "data:image/png;base64," in page


def _conv_model() -> nk.Sequential:
    layers = [
        "conv2d:filters=2,kernel=3,padding=same,activation=tanh",
        "maxpool2d:size=2",
        "conv2d:filters=3,kernel=2,stride=2,activation=relu",
        "dense:units=3,activation=softmax",
    ]
    return nk.Sequential(layers, input_shape=(1, 6, 6), seed=2, dtype=np.float64)


def test_a_conv_nets_trace_has_true_gradients_and_writes_a_window_sum_out() -> None:
    model = _conv_model()
    x, labels = np.random.default_rng(4).uniform(0, 1, (2, 1, 6, 6)), np.array([1, 2])
    trace = model.trace(x, labels, learning_rate=0.1)
    for index, traced in enumerate(trace.layers):
        check_layer_gradients(model, index, traced, x, labels)
    for unit in ("conv2d_1:0", "conv2d_1:41", "conv2d_2:2"):  # a corner (zero padding), the middle, stride 2
        written = model.trace(x[:1], labels[:1], unit=unit).unit
        assert written is not None
        assert written.written_sum == pytest.approx(written.z, abs=1e-12)
        assert written.dl_dz == pytest.approx(float(written.dl_da[written.unit] * written.da_dz[written.unit]))
        assert "z = Σ wᵢ·xᵢ + b over" in written.lines()[0]
    assert model.trace(x[:1], 1, unit="conv2d_1:0").unit.inputs.size == 9  # type: ignore[union-attr]
