"""Shapes are tuples end to end: images in any layout the data has, a flatten where a dense layer meets an
image, and assembly errors that name the layer and both shapes."""

from __future__ import annotations

import numpy as np
import pytest

import netkit as nk
from netkit.errors import ConfigError
from netkit.model.network import Network


def _image_net(seed: int = 0) -> nk.Sequential:
    return nk.Sequential(
        ["dense:units=8,activation=relu", "dense:units=3,activation=softmax"], input_shape=(1, 6, 6), seed=seed
    )


def test_a_dense_layer_on_an_image_gets_a_flatten_and_reads_as_before() -> None:
    model = _image_net()
    assert [layer.describe() for layer in model.layers] == ["flatten", "dense 8 (relu)", "dense 3 (softmax)"]
    assert repr(model) == "36-8-3 (relu, softmax)"
    assert model.shapes == [(1, 6, 6), (36,), (8,), (3,)]
    assert model.parameter_count == 36 * 8 + 8 + 8 * 3 + 3


LENET = [
    "conv2d:filters=6,kernel=5,padding=same,activation=relu",
    "maxpool2d:size=2",
    "conv2d:filters=16,kernel=5,activation=relu",
    "maxpool2d:size=2",
    "dense:units=120,activation=relu",
    "dense:units=84,activation=relu",
    "dense:units=10,activation=softmax",
]


def test_a_conv_net_reads_as_its_input_shape_image_layers_and_dense_sizes() -> None:
    model = nk.Sequential(LENET, input_shape=(1, 28, 28))
    assert repr(model) == "1x28x28 conv6@5x5(same) pool2 conv16@5x5 pool2 120-84-10 (relu, softmax)"
    assert str(model.summary()).splitlines()[0] == repr(model)


def test_a_conv_net_repr_names_strides_average_pooling_and_dropout() -> None:
    layers = [
        "conv2d:filters=4,kernel=3,stride=2,activation=tanh",
        "dropout:rate=0.5",
        "avgpool2d:size=3,stride=2",
        "dense:units=10,activation=softmax",
    ]
    assert repr(Network((3, 16, 16), layers)) == "3x16x16 conv4@3x3/2 avgpool3/2 10 (tanh, softmax, dropout 0.5)"


def test_a_dense_net_reads_exactly_as_before() -> None:
    assert repr(Network(784, ["dense:units=16", "dense:units=16", "dense:units=10,activation=softmax"])) == (
        "784-16-16-10 (sigmoid, softmax)"
    )


def test_fit_predict_and_evaluate_take_images_flat_or_shaped_alike() -> None:
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (60, 1, 6, 6)).astype(np.float32), rng.integers(0, 3, 60)
    shaped, flat = _image_net(), _image_net()
    shaped.fit(images, labels, epochs=2, validation=0, progress=False)
    flat.fit(images.reshape(60, 36), labels, epochs=2, validation=0, progress=False)
    np.testing.assert_array_equal(shaped.parameters, flat.parameters)
    for layout in (images, images.reshape(60, 6, 6), images.reshape(60, 36)):
        np.testing.assert_array_equal(shaped.predict_proba(layout), shaped.predict_proba(images))
    one = shaped.predict_proba(images[0, 0])  # one (6, 6) image alone
    np.testing.assert_array_equal(one, shaped.predict_proba(images[:1]))
    assert shaped.evaluate(images.reshape(60, 6, 6), labels).accuracy == shaped.evaluate(images, labels).accuracy


def test_a_wrong_sample_size_is_one_line_naming_both_shapes() -> None:
    with pytest.raises(
        ConfigError, match=r"expects rows of 36 inputs \(each sample \(1, 6, 6\)\), got shape \(4, 5, 5\)"
    ):
        _image_net().predict(np.zeros((4, 5, 5)))


class ChannelsOnly(nk.Layer):
    """A layer that needs (channels, height, width) samples, as a convolution does."""

    def build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 3:
            raise ConfigError(f"needs (channels, height, width), not {input_shape}")
        return input_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:  # type: ignore[type-arg]
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        return dy


def test_layers_that_do_not_fit_are_refused_at_assembly_naming_the_layer_and_both_shapes() -> None:
    with pytest.raises(ConfigError, match=r"layer 3 \(channelsonly\) on input \(4,\): needs \(channels"):
        Network((1, 6, 6), ["dense:units=4", ChannelsOnly(), "dense:units=2"])
    with pytest.raises(ConfigError, match=r"a dense layer takes one axis of features, not \(2, 3\)"):
        nk.layer("dense", units=2).build((2, 3))


def test_a_model_file_keeps_the_input_shape(tmp_path: object) -> None:
    model = _image_net(seed=3)
    path = nk.save(model, f"{tmp_path}/image.h5")
    again = nk.load(path)
    assert again.input_shape == (1, 6, 6)
    images = np.random.default_rng(1).uniform(0, 1, (5, 1, 6, 6))
    np.testing.assert_array_equal(again.predict_proba(images), model.predict_proba(images))
