"""Putting layers together: each built on the shape the one below gives, and a model config read back.

A :class:`Flatten` goes in where a layer that takes flat input (``flat_input``) follows one that gives more
axes, so a dense stack on images reads as it always did. Files written by netkit 0.1 name ``input_size``;
later ones ``input_shape``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netkit.errors import ConfigError
from netkit.model.layer import Flatten, Layer, Shape, shape_of


def assemble(input_shape: Shape, layers: Sequence[Layer]) -> tuple[list[Layer], list[Shape]]:
    """Each layer built on the shape the one below gives (a :class:`Flatten` put in where a layer that takes
    flat input follows one that gives more axes); the layers and the shapes entering the first and leaving each."""
    assembled: list[Layer] = []
    shapes = [input_shape]
    for layer in layers:
        if layer.flat_input and len(shapes[-1]) > 1:
            flatten = Flatten()
            shapes.append(flatten.build(shapes[-1]))
            assembled.append(flatten)
        try:
            shapes.append(shape_of(layer.build(shapes[-1]), "the output shape"))
        except ConfigError as exc:
            raise ConfigError(f"layer {len(assembled) + 1} ({layer.describe()}) on input {shapes[-1]}: {exc}") from None
        assembled.append(layer)
    return assembled, shapes


def config_input_shape(config: Mapping[str, Any]) -> Shape:
    """A model config's input shape: ``input_shape``, or ``input_size`` in files written by netkit 0.1."""
    if "input_shape" in config:
        return shape_of(config["input_shape"], "input_shape")
    if "input_size" in config:
        return shape_of(config["input_size"], "input_size")
    raise ConfigError("model config lacks 'input_shape'")


def config_layers(config: Mapping[str, Any]) -> Any:
    try:
        return config["layers"]
    except KeyError:
        raise ConfigError("model config lacks 'layers'") from None
