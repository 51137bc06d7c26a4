"""A layer as a stand-alone netkit plugin: install this package and use ``--layer scale``.

Written in netkit's textbook form, the only one a plugin needs: ``build`` says what shape comes out,
``forward`` and ``backward`` work on plain arrays of any rank, and ``backward`` fills the gradients of the
layer's two parameters. netkit does the rest (flat parameter vector, optimisers, files, checks).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

import netkit as nk

Array = npt.NDArray[np.floating[Any]]


class Scale(nk.Layer):
    """A learned gain and offset for every input value: y = x * gain + offset, elementwise.

    No options. The gain starts at 1 and the offset at 0, so a new layer passes its input through unchanged.
    Backward: dL/dgain = sum over the batch of dy * x, dL/doffset = sum of dy, dL/dx = dy * gain.
    """

    def build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        self.shape = input_shape
        return input_shape

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"gain": self.shape, "offset": self.shape}

    def initialize(self, rng: np.random.Generator) -> None:
        self.parameters["gain"][...] = 1.0
        self.parameters["offset"][...] = 0.0

    def forward(self, x: Array, training: bool = False) -> Array:
        self.x = x
        result: Array = x * self.parameters["gain"] + self.parameters["offset"]
        return result

    def backward(self, dy: Array) -> Array:
        self.gradients["gain"][...] = (dy * self.x).sum(axis=0)
        self.gradients["offset"][...] = dy.sum(axis=0)
        result: Array = dy * self.parameters["gain"]
        return result

    def describe(self) -> str:
        return "scale"
