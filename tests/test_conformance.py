"""Every registered plugin, built-in or third-party, passes netkit's conformance checks."""

from __future__ import annotations

import numpy as np
import pytest

from netkit.model.network import Network
from netkit.plugins import layers
from netkit.plugins.textbook.activations import LeakyReLU
from netkit.registry import default_registry, iter_plugins
from netkit.testing import check_activation, check_model_gradients, check_plugin

PLUGINS = list(iter_plugins(default_registry()))


@pytest.mark.parametrize(("group", "name", "cls"), PLUGINS, ids=[f"{g}:{n}" for g, n, _ in PLUGINS])
def test_registered_plugin_conforms(group: str, name: str, cls: type) -> None:
    report = check_plugin(group, cls)
    assert report.ok and str(report).startswith(f"{report.plugin}: ok, {len(report.checks)} checks passed")
    assert len(report.checks) >= 2  # the docstring, the config round-trip, and the group's own checks
    assert report.checks[0].startswith("has a docstring") and "rebuilds it through JSON" in str(report)


def test_a_report_says_what_was_checked_and_ok() -> None:
    report = check_activation(LeakyReLU(slope=0.2))
    lines = str(report).splitlines()
    assert lines[0] == "LeakyReLU (activation): ok, 5 checks passed"
    assert lines[1:] == [
        "  ✓ init is 'he', an initialisation netkit knows",
        "  ✓ forward and backward keep the shape (5, 4) and float32",
        "  ✓ forward stays finite, without overflow warnings, from z = -500 to 500",
        "  ✓ backward equals finite differences of forward (relative error below 1e-06)",
        '  ✓ from_config(get_config()) rebuilds it through JSON ({"slope": 0.2})',
    ]
    assert repr(report) == str(report)  # what a notebook or a REPL shows


def test_a_failing_check_raises_instead_of_reporting() -> None:
    class WrongDerivative(LeakyReLU):
        """LeakyReLU with the slope left out of its derivative."""

        def backward(self, z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
            return np.where(z > 0, grad, 0 * grad)

    with pytest.raises(AssertionError, match="differs from finite differences"):
        check_activation(WrongDerivative(slope=0.2))


def test_every_group_has_its_builtins() -> None:
    registry = default_registry()
    assert {"sigmoid", "relu", "leaky-relu", "tanh", "softmax", "identity"} <= set(registry.names("activations"))
    assert {"mse", "cross-entropy"} <= set(registry.names("losses"))
    assert {"full-batch", "mini-batch", "stochastic", "momentum", "adam"} <= set(registry.names("optimizers"))
    assert "dense" in registry.names("layers")
    assert {"mnist", "fashion-mnist", "idx", "png-folder", "csv"} <= set(registry.names("datasets"))


@pytest.mark.parametrize(
    ("hidden", "output", "loss"),
    [
        ("sigmoid", "sigmoid", "mse"),  # the original program's configuration
        ("sigmoid", "softmax", "cross-entropy"),  # fused output gradient
        ("relu", "softmax", "mse"),  # softmax Jacobian applied explicitly
        ("tanh", "identity", "mse"),  # fused through the identity
        ("leaky-relu", "sigmoid", "cross-entropy"),  # cross-entropy without its fused partner
    ],
)
@pytest.mark.parametrize("layout", ["rows-first", "transposed", "transposed-weights"])
def test_whole_network_gradient_matches_finite_differences(
    hidden: str, output: str, loss: str, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if layout == "transposed":  # every layer keeps (units, rows) buffers, as large layers do when training
        monkeypatch.setattr(layers, "TRANSPOSE_FROM", 0)
    if layout == "transposed-weights":  # and (units, inputs) weights in memory, as wide layers do
        monkeypatch.setattr(layers, "TRANSPOSED_WEIGHT_FROM_UNITS", 1)
    model = Network(
        6,
        [
            {"type": "dense", "units": 5, "activation": hidden},
            {"type": "dense", "units": 4, "activation": hidden},
            {"type": "dense", "units": 3, "activation": output},
        ],
        loss,
        np.random.default_rng(3),
        dtype=np.float64,
    )
    check_model_gradients(model, np.random.default_rng(4))


def test_a_wrong_gradient_is_caught() -> None:
    """The checker itself must be able to fail: a sigmoid whose derivative is off by 2x."""
    from netkit.plugins.textbook.activations import Sigmoid
    from netkit.testing import check_activation

    class HalfWrongSigmoid(Sigmoid):
        def backward(self, z, a, grad):  # type: ignore[no-untyped-def]
            return super().backward(z, a, grad) * 2

    with pytest.raises(AssertionError, match="finite differences"):
        check_activation(HalfWrongSigmoid())
