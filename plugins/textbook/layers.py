"""The dense layer in textbook form: z = x W + b, a = f(z), and the backward pass beside it.

Backward, given dy = dL/da from the layer above (the chain rule, row by row of the batch):
dz = f'(z) * dy, dW = x^T dz, db = dz summed over the rows, dx = dz W^T (what the layer below gets).
Its options, their checks and its docs live here once; the fast form (:class:`netkit.plugins.layers.Dense`)
derives from this class and only adds speed.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.errors import ConfigError
from netkit.model.layer import Layer, OnnxOperator, Shape
from netkit.protocols import Activation
from netkit.registry import active_registry
from netkit.types import Config, FloatArray

INITIALISERS = ("xavier", "he")


def _positive_units(instance: Any, attribute: Any, value: int) -> None:
    if value < 1:
        raise ConfigError(f"a dense layer needs at least 1 unit. Received: units={value!r}")


def _to_units(value: Any) -> int:
    try:
        if isinstance(value, bool) or not float(value).is_integer():
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"units must be a whole number. Received: units={value!r}") from None


def _known_init(instance: Any, attribute: Any, value: str | None) -> None:
    if value is not None and value not in INITIALISERS:
        raise ConfigError(f"init must be one of {', '.join(INITIALISERS)}. Received: init={value!r}")


def _activation(spec: Any) -> Activation:
    """An activation plugin from a spec (``"relu"``, ``{"type": "leaky-relu", "slope": 0.1}``) or an instance."""
    if isinstance(spec, str | dict):
        activation: Activation = active_registry().create("activations", spec)
        return activation
    return spec


def initialize_weights(
    weight: FloatArray, bias: FloatArray, scheme: str, rng: np.random.Generator, fan_in: int, fan_out: int
) -> None:
    """Xavier/Glorot uniform, or He normal (``scheme == "he"``) weights over the given fans, and a zero bias."""
    if scheme == "he":
        weight[...] = rng.standard_normal(weight.shape) * math.sqrt(2.0 / fan_in)
    else:
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        weight[...] = rng.uniform(-limit, limit, weight.shape)
    bias[...] = 0.0


def initialize_dense(weight: FloatArray, bias: FloatArray, scheme: str, rng: np.random.Generator) -> None:
    """:func:`initialize_weights` over a dense layer's fans: its inputs and its units."""
    inputs, units = weight.shape
    initialize_weights(weight, bias, scheme, rng, inputs, units)


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # forward keeps x, z and a for backward
class Dense(Layer):
    """A fully connected layer: every input feeds every unit. Options: ``units``, ``activation`` (sigmoid),
    ``init``.

    ``init`` defaults to what the activation prefers: Xavier/Glorot uniform for sigmoid, tanh and softmax,
    He normal for the ReLU family. The bias starts at zero.
    """

    weights: ClassVar[tuple[str, ...]] = ("weight",)
    flat_input: ClassVar[bool] = True
    weighted_sums: ClassVar[bool] = True
    conformance_config: ClassVar[Config] = {"units": 3, "activation": "tanh"}

    units: int = attrs.field(converter=_to_units, validator=_positive_units)
    activation: Activation = attrs.field(factory=lambda: _activation("sigmoid"), converter=_activation)
    init: str | None = attrs.field(default=None, validator=_known_init)

    def get_config(self) -> Config:
        config: Config = {"units": self.units, "activation": active_registry().spec_of("activations", self.activation)}
        if self.init is not None:
            config["init"] = self.init
        return config

    @classmethod
    def from_config(cls, config: Config) -> Any:
        if "units" not in config:
            raise ConfigError(f"a dense layer needs 'units'. Received: {dict(config)!r}")
        return cls(**config)

    def describe(self) -> str:
        return f"dense {self.units} ({active_registry().name_of('activations', self.activation)})"

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("Gemm", parameters=(("weight", None), ("bias", None)))  # x W + b

    def build(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 1:
            raise ConfigError(f"a dense layer takes one axis of features, not {input_shape}: put a flatten first")
        self.inputs = input_shape[0]
        return (self.units,)

    def parameter_shapes(self) -> dict[str, Shape]:
        return {"weight": (self.inputs, self.units), "bias": (self.units,)}

    def initialize(self, rng: np.random.Generator) -> None:
        scheme = self.init or type(self.activation).init
        initialize_dense(self.parameters["weight"], self.parameters["bias"], scheme, rng)

    def forward(self, x: FloatArray, training: bool = False) -> FloatArray:
        self.x = x
        self.z = self.weighted_sum(x)
        self.a = self.activation.forward(self.z)
        return self.a

    def unit_terms(self, x: FloatArray, unit: int) -> tuple[FloatArray, Any, Any]:
        """Unit j sums every input: z_j = Σ_i x_i W[i, j] + b[j]."""
        return x.reshape(-1), (slice(None), unit), unit

    def weighted_sum(self, x: FloatArray) -> FloatArray:
        """z = x W + b: row i, unit j holds sum_k x[i, k] W[k, j] + b[j]."""
        return x @ self.parameters["weight"] + self.parameters["bias"]

    def backward(self, dy: FloatArray) -> FloatArray:
        dz = self.activation.backward(self.z, self.a, dy)
        # The model owns the gradient arrays (views into one flat vector): fill them, do not rebind them.
        self.gradients["weight"][...] = self.x.T @ dz
        self.gradients["bias"][...] = dz.sum(axis=0)
        return dz @ self.parameters["weight"].T
