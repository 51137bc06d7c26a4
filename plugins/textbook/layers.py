"""The textbook dense layer: z = x W + b, a = f(z), and the backward pass beside it.

Backward, given grad = dL/da from the layer above (the chain rule, row by row of the batch):
dz = f'(z) * grad, dW = x^T dz, db = dz summed over the rows, dx = dz W^T (what the layer below gets).
The fast twin is :class:`netkit.plugins.layers.Dense`.
"""

from __future__ import annotations

import math
from typing import ClassVar

import attrs
import numpy as np

from netkit.model.forms import textbook_activation
from netkit.protocols import Activation
from netkit.registry import active_registry
from netkit.types import Config, FloatArray

_EMPTY = np.empty((0, 0), dtype=np.float32)


def initialize_dense(weight: FloatArray, bias: FloatArray, scheme: str, rng: np.random.Generator) -> None:
    """Xavier/Glorot uniform, or He normal (``scheme == "he"``) weights, and a zero bias."""
    inputs, units = weight.shape
    if scheme == "he":
        weight[...] = rng.standard_normal(weight.shape) * math.sqrt(2.0 / inputs)
    else:
        limit = math.sqrt(6.0 / (inputs + units))
        weight[...] = rng.uniform(-limit, limit, weight.shape)
    bias[...] = 0.0


@attrs.define(slots=False)  # so that forward can keep x, z and a for backward as plain attributes
class Dense:
    """A fully connected layer: every input feeds every unit. Options: ``units``, ``activation``, ``init``."""

    units: int
    activation: Activation
    init: str | None = None
    conformance_config: ClassVar[Config] = {"units": 3, "activation": "tanh"}
    needs_input_gradient: bool = True
    weight: FloatArray = attrs.field(default=_EMPTY, init=False, repr=False)
    bias: FloatArray = attrs.field(default=_EMPTY, init=False, repr=False)
    weight_gradient: FloatArray = attrs.field(default=_EMPTY, init=False, repr=False)
    bias_gradient: FloatArray = attrs.field(default=_EMPTY, init=False, repr=False)

    def get_config(self) -> Config:
        config: Config = {"units": self.units, "activation": active_registry().spec_of("activations", self.activation)}
        if self.init is not None:
            config["init"] = self.init
        return config

    @classmethod
    def from_config(cls, config: Config) -> Dense:
        config = dict(config)
        activation = active_registry().create("activations", config.pop("activation", "sigmoid"))
        return cls(activation=activation, **config)

    def describe(self) -> str:
        return f"dense {self.units} ({active_registry().name_of('activations', self.activation)})"

    def build(self, input_size: int) -> int:
        self.inputs = input_size
        self.f, self.f_backward = textbook_activation(self.activation)  # f(z), and dL/dz from (z, a, dL/da)
        return self.units

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.inputs, self.units), "bias": (self.units,)}

    def bind(self, parameters: dict[str, FloatArray], gradients: dict[str, FloatArray]) -> None:
        self.weight, self.bias = parameters["weight"], parameters["bias"]
        self.weight_gradient, self.bias_gradient = gradients["weight"], gradients["bias"]

    def initialize(self, rng: np.random.Generator) -> None:
        initialize_dense(self.weight, self.bias, self.init or type(self.activation).init, rng)

    def forward(self, x: FloatArray, training: bool) -> FloatArray:
        self.x = x
        self.z = x @ self.weight + self.bias
        self.a = self.f(self.z)
        return self.a

    def backward(self, grad: FloatArray, pre_activation: bool = False) -> FloatArray | None:
        dz = grad if pre_activation else self.f_backward(self.z, self.a, grad)
        # The model owns the gradient arrays (views into one flat vector): fill them, do not rebind them.
        self.weight_gradient[...] = self.x.T @ dz
        self.bias_gradient[...] = dz.sum(axis=0)
        return dz @ self.weight.T if self.needs_input_gradient else None
