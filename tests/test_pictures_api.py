"""``nk.pictures``: a model's pictures in one call each, for notebooks and scripts."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import netkit as nk
from netkit.errors import ConfigError
from tests.data_helpers import halves


def test_loss_weights_and_maps_pictures_of_a_trained_conv_net() -> None:
    images, labels = halves(200, features=784)
    model = nk.Sequential(
        ["conv2d:filters=4,kernel=3,padding=same", "maxpool2d:size=2", nk.Dense(2, "softmax")],
        input_shape=(1, 28, 28),
        seed=0,
    )
    model.fit(images, labels, epochs=2, validation=0.2, progress=False)
    loss = nk.pictures.loss_picture(model)
    weights = nk.pictures.weights_picture(model)
    maps = nk.pictures.feature_maps_picture(model, images[0])
    assert all(isinstance(picture, Image.Image) for picture in (loss, weights, maps))
    assert loss.width > 400 and weights.width > 100 and maps.height > 3 * 84  # input, conv row, pool row


def test_pictures_refuse_what_they_cannot_draw() -> None:
    dense = nk.Sequential([nk.Dense(4, "sigmoid"), nk.Dense(2, "softmax")], input_size=784, seed=0)
    with pytest.raises(ValueError, match="no epochs"):
        nk.pictures.loss_picture(dense)  # never trained
    with pytest.raises(ConfigError, match="has none"):
        nk.pictures.feature_maps_picture(dense, np.zeros(784))
    odd = nk.Sequential([nk.Dense(4, "sigmoid"), nk.Dense(2, "softmax")], input_size=10, seed=0)
    with pytest.raises(ConfigError, match="square image"):
        nk.pictures.weights_picture(odd)
