"""Conformance checks for plugins: shapes, dtypes, finite-difference gradients, config round-trip, and
fast-equals-textbook (:func:`check_twin`, from :mod:`netkit.testing.twins`).

netkit runs these on every registered plugin; a plugin author runs them on theirs::

    from netkit.testing import check_activation
    check_activation(Swish())

The checks call the textbook contract (:mod:`netkit.protocols`, :mod:`netkit.model.layer`); a built-in's
fast form is held to its textbook class by :func:`check_twin`. Each check raises ``AssertionError`` with a
message saying what is wrong; when every check passes it returns a :class:`ConformanceReport` that lists
what was checked and says "ok" (print it). Gradients are checked in float64 with central differences, so a tolerance of
about 1e-6 separates right from wrong by many orders.
A plugin class whose constructor needs options sets ``conformance_config`` (a class attribute): the config
:func:`check_plugin` builds the sample instance from.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from netkit.model.layer import Shape
from netkit.model.network import Network
from netkit.protocols import Activation, Layer, Loss, Optimizer, Schedule
from netkit.registry import Registry, textbook_twin
from netkit.testing.report import ConformanceReport
from netkit.testing.twins import (
    BATCH_SIZES,
    TOLERANCE,
    TRAINING_TOLERANCE,
    assert_twins_agree,
    check_activation_twin,
    check_inference_twin,
    check_layer_twin,
    check_loss_twin,
    check_optimizer_twin,
    check_training_twin,
    check_twin,
)
from netkit.types import Config, FloatArray

__all__ = [
    "BATCH_SIZES",
    "GRADIENT_TOLERANCE",
    "TOLERANCE",
    "TRAINING_TOLERANCE",
    "ConformanceReport",
    "assert_gradients_close",
    "assert_twins_agree",
    "check_activation",
    "check_activation_twin",
    "check_config_round_trip",
    "check_inference_twin",
    "check_layer",
    "check_layer_twin",
    "check_loss",
    "check_loss_twin",
    "check_model_gradients",
    "check_optimizer",
    "check_optimizer_twin",
    "check_plugin",
    "check_training_twin",
    "check_twin",
    "numerical_gradient",
    "sample_instance",
]

GRADIENT_TOLERANCE = 1e-6
_STEP = 1e-6


def numerical_gradient(function: Callable[[], float], array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """d function / d array by central differences, perturbing ``array`` (any view) in place one entry at a time."""
    gradient = np.zeros(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + _STEP
        above = function()
        array[index] = original - _STEP
        below = function()
        array[index] = original
        gradient[index] = (above - below) / (2 * _STEP)
    return gradient


def assert_gradients_close(analytic: np.ndarray[Any, Any], numeric: np.ndarray[Any, Any], what: str) -> None:
    """Relative error max|a - n| / max(1, max|n|) must be below :data:`GRADIENT_TOLERANCE`."""
    error = float(np.max(np.abs(analytic - numeric), initial=0.0)) / max(1.0, float(np.max(np.abs(numeric))))
    assert error < GRADIENT_TOLERANCE, f"{what}: analytic gradient differs from finite differences by {error:.2e}"


def check_config_round_trip(plugin: Any) -> ConformanceReport:
    """``from_config(get_config())`` rebuilds an equivalent plugin, and the config is JSON."""
    config = plugin.get_config()
    assert isinstance(config, dict), f"{type(plugin).__name__}.get_config() must return a dict"
    text = json.dumps(config)
    rebuilt = type(plugin).from_config(json.loads(text))
    assert type(rebuilt) is type(plugin), "from_config built a different class"
    assert rebuilt.get_config() == config, f"config does not round-trip: {config} -> {rebuilt.get_config()}"
    report = ConformanceReport(type(plugin).__name__)
    report.passed(f"from_config(get_config()) rebuilds it through JSON ({text})")
    return report


def check_activation(activation: Activation, rng: np.random.Generator | None = None) -> ConformanceReport:
    """Shapes, dtypes, saturation, the derivative against finite differences, config round-trip."""
    rng = rng or np.random.default_rng(0)
    assert activation.init in ("xavier", "he"), f"init must be 'xavier' or 'he', got {activation.init!r}"
    name = type(activation).__name__
    report = ConformanceReport(f"{name} (activation)")
    report.passed(f"init is {activation.init!r}, an initialisation netkit knows")
    z32 = rng.standard_normal((5, 4)).astype(np.float32)
    a32 = activation.forward(z32)
    assert a32.shape == z32.shape and a32.dtype == np.float32, f"{name}.forward must keep the shape and float32"
    dz32 = activation.backward(z32, a32, np.ones_like(z32))
    assert dz32.shape == z32.shape and dz32.dtype == np.float32, f"{name}.backward must keep the shape and float32"
    report.passed("forward and backward keep the shape (5, 4) and float32")
    extreme = np.array([[-500.0, -50.0, 0.0, 50.0, 500.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        saturated = activation.forward(extreme)
    assert np.all(np.isfinite(saturated)), f"{name}.forward overflows on large inputs: {saturated}"
    report.passed("forward stays finite, without overflow warnings, from z = -500 to 500")

    z = rng.standard_normal((5, 4)) * 2
    z[np.abs(z) < 1e-3] = 0.5  # keep away from kinks (ReLU at 0) where the derivative is undefined
    weights = rng.standard_normal(z.shape)  # L = sum(weights * f(z)), so dL/da = weights

    def loss() -> float:
        return float(np.sum(weights * activation.forward(z)))

    numeric = numerical_gradient(loss, z)
    analytic = activation.backward(z, activation.forward(z), weights.copy())
    assert_gradients_close(analytic, numeric, f"{name}.backward")
    report.passed(f"backward equals finite differences of forward (relative error below {GRADIENT_TOLERANCE:g})")
    return report.include(check_config_round_trip(activation))


def _probabilities(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray[Any, Any]:
    logits = rng.standard_normal(shape)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities: np.ndarray[Any, Any] = exp / exp.sum(axis=1, keepdims=True)
    return probabilities


def check_loss(loss: Loss, rng: np.random.Generator | None = None) -> ConformanceReport:
    """The value is a finite float, the gradient matches finite differences, the config round-trips."""
    rng = rng or np.random.default_rng(0)
    output = _probabilities(rng, (6, 4))
    target = np.eye(4)[rng.integers(0, 4, 6)]
    value = loss.value(output, target)
    assert isinstance(value, float) and np.isfinite(value), f"value must be a finite float, got {value!r}"
    report = ConformanceReport(f"{type(loss).__name__} (loss)")
    report.passed(f"value is a finite float ({value:.4g} on 6 rows of 4 classes)")
    numeric = numerical_gradient(lambda: loss.value(output, target), output)
    assert_gradients_close(loss.gradient(output, target), numeric, f"{type(loss).__name__}.gradient")
    report.passed(f"gradient equals finite differences of value (relative error below {GRADIENT_TOLERANCE:g})")
    return report.include(check_config_round_trip(loss))


def _fresh_arrays(shapes: dict[str, Shape], dtype: Any) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    return (
        {name: np.zeros(shape, dtype=dtype) for name, shape in shapes.items()},
        {name: np.zeros(shape, dtype=dtype) for name, shape in shapes.items()},
    )


def _forward(layer: Layer, x: FloatArray) -> FloatArray:
    """A training forward pass; a layer that draws random numbers (dropout) draws the same ones every time."""
    if layer.random:
        layer.rng = np.random.default_rng(11)
    return layer.forward(x, True)


def check_layer(
    layer: Layer, rng: np.random.Generator | None = None, input_shape: Shape | None = None
) -> ConformanceReport:
    """Build on an input of any rank, initialise reproducibly, keep float32, and give parameter and input
    gradients that match finite differences; the config round-trips."""
    rng = rng or np.random.default_rng(0)
    input_shape = input_shape or layer.example_input_shape
    name = layer.describe()
    report = ConformanceReport(f"{name} (layer)")
    output_shape = layer.build(input_shape)
    assert isinstance(output_shape, tuple) and all(isinstance(n, int) and n >= 1 for n in output_shape), (
        f"{name}: build must return the output shape as a tuple of positive ints, got {output_shape!r}"
    )
    parameters, gradients = _fresh_arrays(layer.parameter_shapes(), np.float64)
    layer.bind(parameters, gradients)
    report.passed(f"build{tuple(input_shape)} gives the output shape {output_shape}")
    layer.initialize(np.random.default_rng(7))
    first = {key: array.copy() for key, array in parameters.items()}
    layer.initialize(np.random.default_rng(7))
    for key, array in parameters.items():
        np.testing.assert_array_equal(array, first[key], err_msg=f"{name}: initialize is not reproducible for {key}")
    report.passed("initialize draws the same parameters from the same generator")
    for array in parameters.values():  # random values so that no gradient is trivially zero
        array[...] = rng.standard_normal(array.shape) * 0.5
    for weight in layer.weights:
        assert weight in parameters, f"{name} declares {weight!r} a weight but has no such parameter"
    x = rng.standard_normal((4, *input_shape))
    weights = rng.standard_normal((4, *output_shape))  # L = sum(weights * y), so dL/dy = weights

    def loss() -> float:
        return float(np.sum(weights * _forward(layer, x)))

    output = _forward(layer, x)
    assert output.shape == (4, *output_shape), f"{name}: forward gave {output.shape}, expected {(4, *output_shape)}"
    input_gradient = np.array(layer.backward(weights.copy()))
    assert input_gradient.shape == x.shape, (
        f"{name}: backward gave dL/dx of shape {input_gradient.shape}, not {x.shape}"
    )
    report.passed(f"forward gives {(4, *output_shape)} for 4 samples and backward gives dL/dx of their shape")
    analytic = {key: gradient.copy() for key, gradient in gradients.items()}
    for key, array in parameters.items():
        assert_gradients_close(analytic[key], numerical_gradient(loss, array), f"{name} d/d{key}")
    assert_gradients_close(input_gradient, numerical_gradient(loss, x), f"{name} d/dx")
    checked = ", ".join([*(f"dL/d{key}" for key in parameters), "dL/dx"])
    report.passed(f"{checked} equal finite differences (relative error below {GRADIENT_TOLERANCE:g})")
    if layer.weighted_sums:  # the declared z is what the activation is applied to
        assert layer.activation is not None, f"{name} declares weighted_sums but has no activation"
        np.testing.assert_allclose(
            layer.activation.forward(layer.weighted_sum(x)),
            layer.forward(x),
            rtol=1e-6,
            atol=1e-9,
            err_msg=f"{name}: forward(x) is not activation.forward(weighted_sum(x))",
        )
        report.passed("forward(x) is activation.forward(weighted_sum(x))")
    # float32 in, float32 out: a float64 result would double every later product's cost.
    parameters32, gradients32 = _fresh_arrays(layer.parameter_shapes(), np.float32)
    layer.bind(parameters32, gradients32)
    layer.initialize(np.random.default_rng(7))
    x32 = x.astype(np.float32)
    output32 = _forward(layer, x32)
    dx32 = layer.backward(np.ones_like(output32))
    assert output32.dtype == np.float32 and dx32.dtype == np.float32, (
        f"{name}: float32 input gave {output32.dtype} output and {dx32.dtype} dL/dx"
    )
    report.passed("float32 in gives float32 out, forward and backward")
    return report.include(check_config_round_trip(layer))


def check_model_gradients(model: Network, rng: np.random.Generator | None = None, rows: int = 3) -> None:
    """The whole network plus its loss (the fast forms' fused output gradient included) against finite
    differences."""
    assert model.dtype == np.float64, "build the model with dtype=np.float64 for a gradient check"
    rng = rng or np.random.default_rng(0)
    x = rng.uniform(0, 1, (rows, *model.input_shape))
    target = np.eye(model.output_size)[rng.integers(0, model.output_size, rows)]

    def forward() -> FloatArray:
        for layer in model.layers:
            if layer.random:  # dropout: the same mask on every pass
                layer.rng = np.random.default_rng(11)
        return model.forward(x, True)

    def loss() -> float:
        return model.loss.value(forward(), target)

    output = forward()
    model._backward_into(output, target, np.empty_like(output))
    analytic = model.gradients.copy()
    assert_gradients_close(analytic, numerical_gradient(loss, model.parameters), f"model {model}")


def check_optimizer(optimizer: Optimizer) -> ConformanceReport:
    """Batch size in range, descends a quadratic bowl, state round-trips, config round-trips."""
    report = ConformanceReport(f"{type(optimizer).__name__} (optimizer)")
    for n in (1, 7, 1000):
        size = optimizer.samples_per_step(n)
        assert 1 <= size <= n, f"samples_per_step({n}) gave {size}"
    report.passed("samples_per_step(n) is between 1 and n for n = 1, 7, 1000")
    parameters = np.linspace(-1, 1, 6).astype(np.float32)
    gradients = np.zeros_like(parameters)
    optimizer.bind(parameters, gradients)
    start = float(np.sum(parameters**2))
    for _ in range(50):
        gradients[...] = 0.2 * parameters  # the gradient of 0.1 sum(p^2)
        optimizer.step()
    assert float(np.sum(parameters**2)) < start, "50 steps on 0.1 sum(p^2) did not reduce it"
    report.passed("50 steps descend the bowl 0.1 sum(p^2)")
    saved = {key: np.copy(value) for key, value in optimizer.state().items()}
    twin = type(optimizer).from_config(optimizer.get_config())
    twin_parameters, twin_gradients = parameters.copy(), np.zeros_like(parameters)
    twin.bind(twin_parameters, twin_gradients)
    twin.load_state(saved)
    gradients[...] = twin_gradients[...] = 0.2 * parameters
    optimizer.step()
    twin.step()
    np.testing.assert_array_equal(parameters, twin_parameters, err_msg="load_state(state()) changes the next step")
    report.passed("load_state(state()) on a rebuilt optimiser gives the same next step")
    return report.include(check_config_round_trip(optimizer))


def check_augmentation(augmentation: Any, side: int = 28) -> ConformanceReport:
    """Keeps shape and float32, stays finite, draws reproducibly from its generator, config round-trips."""
    from netkit.training.augmentation import Augmenter

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (6, side * side)).astype(np.float32)
    augmenter = Augmenter([augmentation])
    first = augmenter(images.copy(), np.random.default_rng(5))
    assert first.shape == images.shape and first.dtype == np.float32, "an augmentation must keep shape and float32"
    assert np.all(np.isfinite(first)), "an augmentation produced NaN or infinite pixels"
    again = augmenter(images.copy(), np.random.default_rng(5))
    np.testing.assert_array_equal(first, again, err_msg="the same generator state must give the same images")
    out = np.empty_like(images)
    assert augmenter(images, np.random.default_rng(5), out) is out, "with out given, the result goes there"
    report = ConformanceReport(f"{type(augmentation).__name__} (augmentation)")
    report.passed(f"keeps the shape (6, {side * side}) and float32, and every pixel finite")
    report.passed("the same generator state gives the same images")
    return report.include(check_config_round_trip(augmentation))


def check_schedule(schedule: Schedule) -> ConformanceReport:
    """A positive, finite rate for every epoch, proportional to the base rate; config round-trips."""
    for epoch in range(30):
        rate = schedule.rate(0.5, epoch)
        assert math.isfinite(rate) and rate >= 0, f"rate(0.5, {epoch}) gave {rate!r}"
        assert math.isclose(schedule.rate(1.0, epoch) * 0.5, rate, rel_tol=1e-12), "rate must scale with the base"
    assert schedule.rate(0.5, 0) > 0, "the first epoch must be able to learn"
    report = ConformanceReport(f"{type(schedule).__name__} (schedule)")
    report.passed("a finite rate >= 0 for epochs 0-29, proportional to the base rate, and > 0 at epoch 0")
    return report.include(check_config_round_trip(schedule))


def sample_instance(cls: type) -> Any:
    """An instance built from the class's ``conformance_config`` (or an empty config)."""
    declared = (vars(base)["conformance_config"] for base in cls.__mro__ if "conformance_config" in vars(base))
    config: Config = dict(next(declared, {}))
    return cls.from_config(config)  # type: ignore[attr-defined]


def check_plugin(group: str, cls: type, registry: Registry | None = None) -> ConformanceReport:
    """Every conformance check that applies to a plugin of ``group``."""
    assert (inspect.getdoc(cls) or "").strip(), f"{cls.__qualname__} needs a docstring: users see it in --help"
    instance = sample_instance(cls)
    checks: dict[str, Callable[[Any], ConformanceReport]] = {
        "activations": check_activation,
        "losses": check_loss,
        "layers": check_layer,
        "optimizers": check_optimizer,
        "augmentations": check_augmentation,
        "schedules": check_schedule,
    }
    report = checks.get(group, check_config_round_trip)(instance)
    report.checks.insert(0, "has a docstring (what users see in --help and netkit plugins)")
    if textbook_twin(cls) is not None:
        check_twin(group, cls, registry=registry)
        report.passed(f"the fast form equals its textbook class {textbook_twin(cls).__qualname__}")  # type: ignore[union-attr]
    return report
