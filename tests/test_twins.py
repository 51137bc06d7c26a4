"""Every fast built-in equals its textbook twin, whole networks train alike, and public gradients are true."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from netkit.io import ModelFile, load_model, save_model
from netkit.model.network import Network
from netkit.plugins import layers
from netkit.plugins.textbook import activations as textbook_activations
from netkit.plugins.textbook import layers as textbook_layers
from netkit.plugins.textbook import optimizers as textbook_optimizers
from netkit.protocols import WithoutOptions
from netkit.registry import Registry, default_registry, iter_plugins, textbook_twin
from netkit.testing import (
    assert_gradients_close,
    check_inference_twin,
    check_model_gradients,
    check_plugin,
    check_training_twin,
    check_twin,
    numerical_gradient,
)
from netkit.training.trainer import Callback, Trainer

MATHS_GROUPS = ("layers", "activations", "losses", "optimizers")
BUILT_INS = [
    (group, name, cls)
    for group, name, cls in iter_plugins(default_registry(), MATHS_GROUPS)
    if cls.__module__.startswith("netkit.plugins.")
]


@pytest.mark.parametrize(("group", "name", "cls"), BUILT_INS, ids=[f"{g}:{n}" for g, n, _ in BUILT_INS])
def test_every_builtin_equals_its_textbook_twin(group: str, name: str, cls: type) -> None:
    twin = textbook_twin(cls)
    assert twin is not None and twin.__module__.startswith("netkit.plugins.textbook."), f"{name} has no textbook twin"
    opening = (sys.modules[cls.__module__].__doc__ or "") + (cls.__doc__ or "")
    assert "textbook" in opening and "fast form" in opening, f"{cls.__qualname__}'s docstrings do not name its twin"
    check_twin(group, cls)


@pytest.mark.parametrize(
    ("module", "name", "method", "group", "fast_name"),
    [
        (textbook_activations, "Sigmoid", "backward", "activations", "sigmoid"),
        (textbook_activations, "Softmax", "forward", "activations", "softmax"),
        (textbook_layers, "Dense", "backward", "layers", "dense"),
        (textbook_optimizers, "Adam", "step", "optimizers", "adam"),
    ],
)
def test_a_changed_twin_is_caught(
    module: Any, name: str, method: str, group: str, fast_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The equality check can fail: nudge one textbook method and the fast form no longer matches it."""
    twin = getattr(module, name)
    original = getattr(twin, method)

    @functools.wraps(original)
    def nudged(self: Any, *args: Any) -> Any:
        result = original(self, *args)
        if method == "step":  # an optimiser's step changes the parameters in place
            self.parameters *= 1.001
            return result
        return result * 1.001

    cls = default_registry().get(group, fast_name)
    check_twin(group, cls)  # passes as the twin is written
    monkeypatch.setattr(twin, method, nudged)
    with pytest.raises(AssertionError, match="fast and textbook forms differ"):
        check_twin(group, cls)


NETWORKS = [
    (["dense:units=5", "dense:units=4", "dense:units=3"], "mse"),  # the original program's sigmoid net
    (
        ["dense:units=5,activation=relu", "dense:units=4,activation=tanh", "dense:units=3,activation=softmax"],
        "cross-entropy",
    ),
    (["dense:units=5,activation=leaky-relu", "dense:units=3,activation=softmax"], "mse"),  # softmax's Jacobian
    (["dense:units=5,activation=tanh", "dense:units=3,activation=identity"], "mse"),
    (["dense:units=5,activation=relu", "dense:units=3,activation=sigmoid"], "cross-entropy"),  # not fused
]
OPTIMIZERS = [
    "mini-batch:batch_size=7",
    "full-batch",
    "stochastic:lr=0.1",
    "momentum:batch_size=32",
    "adam:batch_size=128,lr=0.01",
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize(("specs", "loss"), NETWORKS, ids=[loss + ":" + s[0] for s, loss in NETWORKS])
def test_whole_networks_train_like_their_textbook_twins(
    specs: list[str], loss: str, optimizer: str, dtype: type[np.floating[Any]]
) -> None:
    check_training_twin(6, specs, loss, optimizer, steps=4, dtype=dtype)


@pytest.mark.parametrize(("specs", "loss"), NETWORKS, ids=[loss + ":" + s[0] for s, loss in NETWORKS])
def test_whole_networks_predict_like_their_textbook_twins(specs: list[str], loss: str) -> None:
    check_inference_twin(6, specs)


def test_the_seed_net_predicts_like_its_textbook_twin_on_two_threads() -> None:
    """784-16-16-10 on 3,000 images (1,024-row chunks: enough work that a second thread takes chunks too), and
    an image-shaped input, which the model flattens."""
    specs = ["dense:units=16", "dense:units=16", "dense:units=10,activation=softmax"]
    check_inference_twin(784, specs, rows=(1, 3_000))
    check_inference_twin((1, 28, 28), specs, rows=(5,))


def test_a_changed_inference_form_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prediction runs its own forms of the activations: nudge the sigmoid's from -z and it no longer agrees."""
    fast_sigmoid = default_registry().get("activations", "sigmoid")
    original = fast_sigmoid.forward_from_negated_into

    def nudged(self: Any, negated_z: Any, out: Any) -> Any:
        return original(self, negated_z, out) * 1.001

    specs = ["dense:units=5", "dense:units=3,activation=softmax"]
    check_inference_twin(6, specs, rows=(7,))  # passes as written
    monkeypatch.setattr(fast_sigmoid, "forward_from_negated_into", nudged)
    with pytest.raises(AssertionError, match="fast and textbook forms differ"):
        check_inference_twin(6, specs, rows=(7,))


@pytest.mark.parametrize("layout", ["transposed", "transposed-weights"])
@pytest.mark.parametrize("optimizer", ["mini-batch:batch_size=32", "momentum:batch_size=128"])
def test_transposed_layouts_train_like_the_textbook_twins(
    layout: str, optimizer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast layer's other memory layouts, which only large layers use unless the thresholds are lowered."""
    if layout == "transposed":  # (units, rows) buffers for z and a, as wide layers keep while training
        monkeypatch.setattr(layers, "TRANSPOSE_FROM", 0)
    else:  # and (units, inputs) weights in memory
        monkeypatch.setattr(layers, "TRANSPOSED_WEIGHT_FROM_UNITS", 1)
    specs = ["dense:units=12,activation=relu", "dense:units=9,activation=tanh", "dense:units=4,activation=softmax"]
    for dtype in (np.float32, np.float64):
        check_training_twin(20, specs, "cross-entropy", optimizer, steps=3, dtype=dtype)


def test_a_wide_network_trains_like_its_textbook_twin() -> None:
    """200-600-10 at batch 128: wide enough that the fast layer picks its transposed forms by itself."""
    specs = ["dense:units=600,activation=relu", "dense:units=10,activation=softmax"]
    check_training_twin(200, specs, "cross-entropy", "mini-batch:batch_size=128,lr=0.1", steps=3, dtype=np.float32)


class _LastBatchGradients(Callback):
    """Keeps copies of what a user would look at after each step."""

    def __init__(self) -> None:
        self.seen: list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = []

    def on_batch_end(self, trainer: Trainer, iteration: int, loss: float) -> None:
        self.seen.append((trainer.model.gradients.copy(), trainer.model.layers[0].gradients["weight"].copy()))


@pytest.mark.parametrize("optimizer", ["full-batch:lr=0.5", "momentum:batch_size=16,lr=0.3", "adam:batch_size=16"])
@pytest.mark.parametrize("with_callback", [True, False])
def test_public_gradients_are_true_gradients(optimizer: str, with_callback: bool) -> None:
    """After a training step, ``model.gradients`` and ``layer.gradients["weight"]`` are dL/dW (finite differences),
    not dL/dW times the learning rate, whether read in a callback or after ``fit``."""
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (16, 6)), rng.integers(0, 3, 16)
    specs = ["dense:units=5,activation=tanh", "dense:units=3,activation=softmax"]
    model = Network(6, specs, "cross-entropy", np.random.default_rng(1), dtype=np.float64)
    start = model.parameters.copy()
    callback = _LastBatchGradients()
    trainer = Trainer(model, default_registry().create("optimizers", optimizer))
    trainer.fit(images, labels, 1, callbacks=[callback] if with_callback else [])

    probe = Network(6, specs, "cross-entropy", dtype=np.float64)
    probe.parameters[...] = start
    target = np.eye(3)[labels]
    numeric = numerical_gradient(lambda: probe.loss.value(probe.forward(images, True), target), probe.parameters)
    assert_gradients_close(model.gradients, numeric, "model.gradients after fit")
    first_weights = model.parameter_views[0]["weight"].size
    weight_numeric = numeric[:first_weights].reshape(model.layers[0].gradients["weight"].shape)
    assert_gradients_close(model.layers[0].gradients["weight"], weight_numeric, "layer.weight_gradient after fit")
    if with_callback:
        (flat, weight_gradient), *_ = callback.seen
        assert_gradients_close(flat, numeric, "model.gradients in a callback")
        assert_gradients_close(weight_gradient, weight_numeric, "layer.weight_gradient in a callback")
    if optimizer.startswith("full-batch"):  # and the step they drove was p - lr * dL/dp
        np.testing.assert_allclose(model.parameters, start - 0.5 * model.gradients, rtol=1e-12, atol=1e-15)


class TextbookCube(WithoutOptions):
    """A user's activation in textbook form: a = z^3 / 3 + z, da/dz = z^2 + 1 (no buffers anywhere)."""

    init: ClassVar[str] = "xavier"

    def forward(self, z: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return z**3 / 3 + z

    def backward(self, z: np.ndarray[Any, Any], a: np.ndarray[Any, Any], grad: np.ndarray[Any, Any]) -> Any:
        return grad * (z**2 + 1)


class TextbookHalfSquares(WithoutOptions):
    """A user's loss in textbook form: L = mean over rows of 1/2 ||a - y||^2."""

    fused_activation: ClassVar[str | None] = None

    def value(self, output: np.ndarray[Any, Any], target: np.ndarray[Any, Any]) -> float:
        return float(0.5 * np.sum((output - target) ** 2) / len(output))

    def gradient(self, output: np.ndarray[Any, Any], target: np.ndarray[Any, Any]) -> Any:
        return (output - target) / len(output)


@pytest.fixture
def registry_with_textbook_plugins() -> Iterator[Registry]:
    """The process-wide registry with the two plugins above registered in-process; rebuilt clean afterwards."""
    default_registry.cache_clear()
    registry = default_registry()
    registry.register("activations", "cube", TextbookCube)
    registry.register("losses", "half-squares", TextbookHalfSquares)
    yield registry
    default_registry.cache_clear()


def test_textbook_form_plugins_work_where_built_ins_do(
    registry_with_textbook_plugins: Registry, tmp_path: Path
) -> None:
    """Conformance, whole-network gradients, training and a saved file, with netkit adapting the plain form."""
    registry = registry_with_textbook_plugins
    check_plugin("activations", TextbookCube, registry)
    check_plugin("losses", TextbookHalfSquares, registry)
    specs = ["dense:units=5,activation=cube", "dense:units=3,activation=sigmoid"]
    check_model_gradients(Network(6, specs, "half-squares", np.random.default_rng(2), dtype=np.float64))
    check_training_twin(6, specs, "half-squares", "momentum:batch_size=8", steps=3)
    check_inference_twin(6, specs, registry=registry)

    rng = np.random.default_rng(3)
    images, labels = rng.uniform(0, 1, (64, 6)).astype(np.float32), rng.integers(0, 3, 64)
    model = Network(6, specs, "half-squares", np.random.default_rng(2))
    trainer = Trainer(model, registry.create("optimizers", "mini-batch:batch_size=8,lr=0.5"))
    history = trainer.fit(images, labels, 20)
    assert history.epochs[-1].train_loss < 0.9 * history.epochs[0].train_loss
    save_model(ModelFile.from_trainer(trainer), tmp_path / "cube.h5")
    restored = load_model(tmp_path / "cube.h5")
    assert restored.model.get_config()["layers"][0]["activation"] == {"type": "cube"}
    np.testing.assert_array_equal(restored.model.predict_proba(images), model.predict_proba(images))
