"""Textbook activations: ``forward(z) -> a`` and ``backward(z, a, grad) -> dL/dz``, the derivative beside it.

``grad`` is dL/da coming down from the layer above; ``backward`` returns dL/dz = dL/da * da/dz (the chain
rule); ``onnx_operator()`` names the same function in ONNX, for export. Each class is the plugin: its options,
checks and docs live here once, and the fast forms in
:mod:`netkit.plugins.activations` derive from it and only add speed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.model.layer import OnnxOperator
from netkit.protocols import WithoutOptions
from netkit.types import Config, FloatArray


class Sigmoid(WithoutOptions):
    """a = 1 / (1 + e^-z); da/dz = a (1 - a)."""

    init: ClassVar[str] = "xavier"

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("Sigmoid")

    def forward(self, z: FloatArray) -> FloatArray:
        # The same function as 1 / (1 + exp(-z)), written with tanh so that a large -z cannot overflow exp.
        return 0.5 * np.tanh(0.5 * z) + 0.5

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray) -> FloatArray:
        return grad * a * (1 - a)


class Tanh(WithoutOptions):
    """a = tanh z; da/dz = 1 - a^2."""

    init: ClassVar[str] = "xavier"

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("Tanh")

    def forward(self, z: FloatArray) -> FloatArray:
        return np.tanh(z)

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray) -> FloatArray:
        return grad * (1 - a**2)


class ReLU(WithoutOptions):
    """a = max(z, 0); da/dz = 1 where z > 0, else 0."""

    init: ClassVar[str] = "he"

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("Relu")

    def forward(self, z: FloatArray) -> FloatArray:
        return np.maximum(z, 0)

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray) -> FloatArray:
        return grad * (z > 0)


def _valid_slope(instance: Any, attribute: Any, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"slope must be in [0, 1). Received: slope={value!r}")


@attrs.define(slots=False)
class LeakyReLU:
    """a = z where z > 0, else slope * z; da/dz = 1 or slope. Option: ``slope`` (0.01)."""

    init: ClassVar[str] = "he"
    slope: float = attrs.field(default=0.01, converter=float, validator=_valid_slope)

    def get_config(self) -> Config:
        return {"slope": self.slope}

    @classmethod
    def from_config(cls, config: Config) -> Any:
        return cls(**config)

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("LeakyRelu", {"alpha": self.slope})

    def forward(self, z: FloatArray) -> FloatArray:
        return np.where(z > 0, z, self.slope * z)

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray) -> FloatArray:
        return np.where(z > 0, grad, self.slope * grad)


class Identity(WithoutOptions):
    """a = z; da/dz = 1."""

    init: ClassVar[str] = "xavier"

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("Identity")

    def forward(self, z: FloatArray) -> FloatArray:
        return z.copy()

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray) -> FloatArray:
        return grad.copy()


class Softmax(WithoutOptions):
    """a_i = e^z_i / sum_j e^z_j along each row; dL/dz = a * (grad - sum_j grad_j a_j) (the Jacobian)."""

    init: ClassVar[str] = "xavier"

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("Softmax", {"axis": -1})

    def forward(self, z: FloatArray) -> FloatArray:
        exp = np.exp(z - z.max(axis=1, keepdims=True))  # any per-row shift gives the same a; this one cannot overflow
        return exp / exp.sum(axis=1, keepdims=True)

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray) -> FloatArray:
        return a * (grad - (grad * a).sum(axis=1, keepdims=True))
