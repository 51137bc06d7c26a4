"""The built-in ``dense`` layer: z = x W + b, a = f(z), with its backward pass right beside it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.backend import dot, product_for
from netkit.errors import ConfigError
from netkit.protocols import Activation
from netkit.registry import active_registry
from netkit.types import Config, FloatArray

_NO_BUFFER = np.empty((0, 0), dtype=np.float32)
_INITIALISERS = ("xavier", "he")


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
    if value is not None and value not in _INITIALISERS:
        raise ConfigError(f"init must be one of {', '.join(_INITIALISERS)}. Received: init={value!r}")


@attrs.define(on_setattr=attrs.setters.NO_OP)  # validated once when built, not on each hot-path assignment
class Dense:
    """A fully connected layer: every input feeds every unit. Options: ``units``, ``activation``, ``init``.

    ``init`` defaults to what the activation prefers: Xavier/Glorot uniform for sigmoid, tanh and softmax,
    He normal for the ReLU family. The bias starts at zero.
    """

    units: int = attrs.field(converter=_to_units, validator=_positive_units)
    activation: Activation = attrs.field(factory=lambda: active_registry().create("activations", "sigmoid"))
    init: str | None = attrs.field(default=None, validator=_known_init)
    conformance_config: ClassVar[Config] = {"units": 3, "activation": "tanh"}
    needs_input_gradient: bool = attrs.field(default=True, eq=False)
    inputs: int = attrs.field(default=0, init=False, eq=False)
    weight: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    bias: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    weight_gradient: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    bias_gradient: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    # What forward keeps for backward, and per-batch-size buffers.
    _input: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _z: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _a: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _grad_z: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _grad_input: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _ones: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _forward_product: Callable[..., FloatArray] = attrs.field(default=dot, init=False, repr=False, eq=False)
    _weight_product: Callable[..., FloatArray] = attrs.field(default=dot, init=False, repr=False, eq=False)
    _activation_forward: Callable[[FloatArray, FloatArray], FloatArray] = attrs.field(
        default=None, init=False, repr=False, eq=False
    )
    _activation_backward: Callable[[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray] = attrs.field(
        default=None, init=False, repr=False, eq=False
    )

    def get_config(self) -> Config:
        config: Config = {
            "units": self.units,
            "activation": active_registry().spec_of("activations", self.activation),
        }
        if self.init is not None:
            config["init"] = self.init
        return config

    @classmethod
    def from_config(cls, config: Config) -> Dense:
        config = dict(config)
        if "units" not in config:
            raise ConfigError(f"a dense layer needs 'units'. Received: {config!r}")
        activation = config.pop("activation", "sigmoid")
        return cls(activation=active_registry().create("activations", activation), **config)

    def describe(self) -> str:
        return f"dense {self.units} ({active_registry().name_of('activations', self.activation)})"

    def build(self, input_size: int) -> int:
        self.inputs = input_size
        # The activation's methods, bound once for the hot path.
        self._activation_forward = self.activation.forward
        self._activation_backward = self.activation.backward
        return self.units

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.inputs, self.units), "bias": (self.units,)}

    def bind(self, parameters: dict[str, FloatArray], gradients: dict[str, FloatArray]) -> None:
        self.weight, self.bias = parameters["weight"], parameters["bias"]
        self.weight_gradient, self.bias_gradient = gradients["weight"], gradients["bias"]

    def initialize(self, rng: np.random.Generator) -> None:
        scheme = self.init or type(self.activation).init
        if scheme == "he":
            self.weight[...] = rng.standard_normal(self.weight.shape) * math.sqrt(2.0 / self.inputs)
        else:
            limit = math.sqrt(6.0 / (self.inputs + self.units))
            self.weight[...] = rng.uniform(-limit, limit, self.weight.shape)
        self.bias[...] = 0.0

    def _allocate_backward(self, rows: int) -> None:
        # Separate from forward's buffers so that inference on a large batch never allocates these.
        dtype = self.weight.dtype
        # x.T @ grad_z is the largest product of a step: matmul passes the transposed operand to BLAS as is.
        self._weight_product = product_for(self.inputs * self.units)
        self._grad_z = np.empty((rows, self.units), dtype=dtype)
        self._grad_input = np.empty((rows, self.inputs), dtype=dtype)
        self._ones = np.ones(rows, dtype=dtype)

    def forward(self, x: FloatArray, training: bool) -> FloatArray:
        if x.shape[0] != self._z.shape[0]:
            self._z = np.empty((x.shape[0], self.units), dtype=self.weight.dtype)
            # Forward, matmul gains only on large products (measured: 128 x 784 x 800 yes, 64 x 784 x 128 no).
            self._forward_product = product_for(x.shape[0] * self.inputs * self.units, matmul_from=8_000_000)
            self._a = np.empty_like(self._z)
        self._input = x
        z = self._forward_product(x, self.weight, self._z)
        np.add(z, self.bias, z)
        return self._activation_forward(z, self._a)

    def backward(self, grad: FloatArray, pre_activation: bool = False) -> FloatArray | None:
        if grad.shape[0] != self._ones.shape[0]:
            self._allocate_backward(grad.shape[0])
        grad_z = grad if pre_activation else self._activation_backward(self._z, self._a, grad, self._grad_z)
        self._weight_product(self._input.T, grad_z, self.weight_gradient)
        dot(self._ones, grad_z, self.bias_gradient)  # the column sums, as one BLAS call
        if not self.needs_input_gradient:
            return None
        return dot(grad_z, self.weight.T, self._grad_input)
