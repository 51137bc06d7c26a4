"""The conv2d, maxpool2d and avgpool2d layers: fast equals textbook on odd cases, gradients are true, whole
conv nets train like their textbook twins, and bad specs fail at assembly with the layer and both shapes."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np
import pytest

from netkit.errors import ConfigError
from netkit.model.network import Network
from netkit.plugins import spatial
from netkit.plugins.textbook import spatial as textbook
from netkit.registry import default_registry
from netkit.testing import check_layer, check_layer_twin, check_model_gradients, check_training_twin, check_twin

# kernel, stride, padding, input channels; check_layer_twin adds batches 1, 7, 32 and 128, float32 and float64.
CONV_GRID = list(itertools.product((1, 3, 5), (1, 2), ("valid", "same"), (1, 3)))


@pytest.mark.parametrize(("kernel", "stride", "padding", "channels"), CONV_GRID)
def test_fast_conv2d_equals_its_textbook_twin(kernel: int, stride: int, padding: str, channels: int) -> None:
    config = {"filters": 4, "kernel": kernel, "stride": stride, "padding": padding, "activation": "relu"}
    # 7x9: odd sides, not square, and a 5x5 valid window at stride 2 leaves a remainder on both axes.
    check_layer_twin(spatial.Conv2D(**config), textbook.Conv2D(**config), input_shape=(channels, 7, 9))


@pytest.mark.parametrize("kind", ["maxpool2d", "avgpool2d"])
@pytest.mark.parametrize(("size", "stride"), [(2, None), (3, None), (3, 2), (2, 1)])  # tiling and overlapping
def test_fast_pooling_equals_its_textbook_twin(kind: str, size: int, stride: int | None) -> None:
    fast_class = default_registry().get("layers", kind)
    textbook_class = fast_class.__mro__[1]
    assert textbook_class.__module__ == textbook.__name__
    check_layer_twin(fast_class(size, stride), textbook_class(size, stride), input_shape=(3, 7, 9))


def test_max_pooling_ties_go_to_the_first_maximum_in_both_forms() -> None:
    """A blank image is all ties: fast and textbook must pick the same input of every window."""
    x = np.zeros((2, 1, 4, 4))
    dy = np.arange(8.0).reshape(2, 1, 2, 2) + 1
    for layer in (spatial.MaxPool2D(), textbook.MaxPool2D()):
        layer.build((1, 4, 4))
        layer.forward(x)
        dx = layer.backward(dy)
        np.testing.assert_array_equal(dx[0, 0, ::2, ::2], dy[0, 0])
        assert np.count_nonzero(dx) == dy.size


@pytest.mark.parametrize(
    "config",
    [
        {"filters": 3, "kernel": 3, "stride": 2, "padding": "valid", "activation": "sigmoid"},
        {"filters": 2, "kernel": [2, 3], "padding": "same", "activation": "leaky-relu", "init": "xavier"},
    ],
)
def test_conv2d_gradients_equal_finite_differences(config: dict[str, Any]) -> None:
    for cls in (spatial.Conv2D, textbook.Conv2D):
        check_layer(cls.from_config(config), input_shape=(2, 6, 5))


@pytest.mark.parametrize("kind", ["maxpool2d", "avgpool2d"])
def test_overlapping_pooling_gradients_equal_finite_differences(kind: str) -> None:
    cls = default_registry().get("layers", kind)
    check_layer(cls(size=3, stride=2), input_shape=(2, 7, 6))


@pytest.mark.parametrize(("cls", "method"), [(textbook.Conv2D, "backward"), (textbook.MaxPool2D, "forward")])
def test_a_changed_spatial_twin_is_caught(cls: type, method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    original = getattr(cls, method)

    @functools.wraps(original)
    def nudged(self: Any, *args: Any) -> Any:
        return original(self, *args) * 1.001

    fast = {textbook.Conv2D: spatial.Conv2D, textbook.MaxPool2D: spatial.MaxPool2D}[cls]
    check_twin("layers", fast)
    monkeypatch.setattr(cls, method, nudged)
    with pytest.raises(AssertionError, match="fast and textbook forms differ"):
        check_twin("layers", fast)


LENET_LIKE = [
    "conv2d:filters=3,kernel=3,padding=same",
    "maxpool2d:size=2",
    "conv2d:filters=4,kernel=3,stride=2,activation=tanh",
    "avgpool2d:size=2,stride=1",
    "dense:units=5,activation=relu",
    "dense:units=3,activation=softmax",
]


def test_a_conv_net_gradient_equals_finite_differences() -> None:
    model = Network((2, 12, 12), LENET_LIKE, "cross-entropy", np.random.default_rng(3), dtype=np.float64)
    assert model.shapes == [(2, 12, 12), (3, 12, 12), (3, 6, 6), (4, 2, 2), (4, 1, 1), (4,), (5,), (3,)]
    check_model_gradients(model, np.random.default_rng(4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_conv_net_trains_like_its_textbook_twin(dtype: type[np.floating[Any]]) -> None:
    check_training_twin((2, 12, 12), LENET_LIKE, "cross-entropy", "momentum:batch_size=7", steps=3, dtype=dtype)


@pytest.mark.parametrize(
    ("layers", "input_shape", "message"),
    [
        (
            ["conv2d:filters=2,kernel=7"],
            (1, 5, 5),
            r"layer 1 \(conv2d 2@7x7 valid \(relu\)\) on input \(1, 5, 5\): "
            r"kernel 7x7 is larger than the 5x5 input",
        ),
        (["maxpool2d:size=2", "conv2d:filters=2,kernel=3"], (1, 3, 3), r"layer 2 .* on input \(1, 1, 1\): kernel 3x3"),
        (
            ["dense:units=4", "conv2d:filters=2,kernel=3"],
            (1, 6, 6),
            r"layer 3 \(conv2d.*\) on input \(4,\): conv2d "
            r"takes images shaped \(channels, height, width\)",
        ),
        (
            ["conv2d:filters=2,kernel=3", "maxpool2d:size=5"],
            (1, 6, 6),
            r"layer 2 \(maxpool2d 5x5\) on input "
            r"\(2, 4, 4\): pooling window 5x5 is larger than the 4x4 input",
        ),
        (["avgpool2d:size=2"], (4,), r"avgpool2d takes images shaped"),
    ],
)
def test_a_shape_that_does_not_fit_fails_at_assembly(
    layers: list[str], input_shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Network(input_shape, [*layers, "dense:units=2,activation=softmax"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("conv2d:filters=2,kernel=3,stride=0", r"stride must be at least 1. Received: stride=0"),
        ("conv2d:filters=2,kernel=3,padding=full", r"padding must be one of valid, same. Received: padding='full'"),
        ("conv2d:filters=2,kernel=-1", r"kernel must be at least 1"),
        ("conv2d:kernel=3", r"needs 'filters'"),
        ("conv2d:filters=2.5,kernel=3", r"filters must be a whole number"),
        ("maxpool2d:size=0", r"size must be at least 1. Received: size=0"),
        ("avgpool2d:size=2,stride=0", r"stride must be at least 1"),
    ],
)
def test_a_bad_option_is_refused_with_what_was_received(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        default_registry().create("layers", spec)
