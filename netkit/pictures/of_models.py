"""Pictures of a model in one call each, for notebooks and scripts: what ``netkit plot`` and ``netkit inspect
--weights`` / ``--maps`` draw, as Pillow images (``.save("x.png")`` writes one; a notebook shows it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from netkit.errors import ConfigError
from netkit.pictures.grids import square_shape, weight_layers, weight_picture
from netkit.pictures.maps import feature_map_picture, feature_map_rows
from netkit.pictures.plot import loss_plot

if TYPE_CHECKING:
    from netkit.model.network import Network
    from netkit.model.sequential import Sequential


def loss_picture(model: Sequential, title: str | None = None) -> Image.Image:
    """The training curves: the loss of every iteration, and each epoch's training and validation loss with
    the best epoch marked (log scale). A model that was never trained has none to draw: ``ValueError``."""
    return loss_plot(model._history, title or f"Training curves of {model!r}").to_image()


def weights_picture(model: Network, title: str | None = None) -> Image.Image:
    """Each first-layer unit's input weights as an image tile (a convolution's kernels, one per filter), later
    layers as matrices; blue negative, orange positive, each layer on its own scale."""
    with_parameters = [layer for layer in model.layers if layer.parameter_shapes()]
    if not with_parameters or not with_parameters[0].weights:
        raise ConfigError(f"no first layer with a weight matrix to draw in {model}")
    layers = weight_layers(with_parameters)
    shape = layers[0].tile_shape or square_shape(layers[0].weight.shape[0])
    if shape is None:
        inputs = model.input_size
        raise ConfigError(f"each unit's inputs are drawn as a square image, but {model} takes {inputs} values")
    return weight_picture(layers, title or f"Weights of {model!r}", shape)


def feature_maps_picture(model: Network, image: np.ndarray[Any, Any], title: str | None = None) -> Image.Image:
    """The feature maps every convolution and pooling layer makes of one ``image`` (28x28 pixels in [0, 1], or
    the 784 of them), a row of tiles per layer."""
    pixels = np.asarray(image, dtype=np.float32).reshape(-1)
    side = square_shape(pixels.size)
    if side is None:
        raise ConfigError(f"expected one square image, got {pixels.size} values")
    rows = feature_map_rows(model, pixels)
    if not rows:
        raise ConfigError(f"feature maps come from convolution and pooling layers, and {model} has none")
    return feature_map_picture(pixels.reshape(side), rows, title or f"Feature maps · {model!r}")
