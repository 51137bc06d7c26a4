"""Built-in activations. Each keeps its function and its derivative side by side.

Every method writes into the caller's ``out`` buffer (``out`` may be the incoming gradient itself), and the
scratch arrays an activation needs are its own, reallocated only when the batch size changes: a training
step allocates nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.types import Config, FloatArray

_NO_BUFFER = np.empty((0, 0), dtype=np.float32)


def _like(buffer: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """``buffer`` if it already has ``shape``, else a new float32 array of that shape."""
    return buffer if buffer.shape == shape else np.empty(shape, dtype=np.float32)


@attrs.define
class _Elementwise:
    """Shared plumbing: no hyperparameters by default and one scratch buffer."""

    _scratch: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def get_config(self) -> Config:
        return {}

    @classmethod
    def from_config(cls, config: Config) -> Any:
        return cls(**config)


@attrs.define
class Sigmoid(_Elementwise):
    """Logistic sigmoid, the original network's activation: a = 1 / (1 + e^-z), da/dz = a (1 - a)."""

    init: ClassVar[str] = "xavier"

    def forward(self, z: FloatArray, out: FloatArray) -> FloatArray:
        # 0.5 tanh(z / 2) + 0.5 is the sigmoid, and unlike exp(-z) it cannot overflow.
        np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
        return out

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        slope = self._scratch = _like(self._scratch, a.shape)
        np.square(a, out=slope)
        np.subtract(a, slope, out=slope)  # a - a^2 = a (1 - a)
        return np.multiply(grad, slope, out=out)


@attrs.define
class Tanh(_Elementwise):
    """Hyperbolic tangent: a = tanh z, da/dz = 1 - a^2."""

    init: ClassVar[str] = "xavier"

    def forward(self, z: FloatArray, out: FloatArray) -> FloatArray:
        return np.tanh(z, out=out)

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        slope = self._scratch = _like(self._scratch, a.shape)
        np.square(a, out=slope)
        np.subtract(1.0, slope, out=slope)
        return np.multiply(grad, slope, out=out)


@attrs.define
class ReLU(_Elementwise):
    """Rectified linear unit: a = max(z, 0), da/dz = 1 where z > 0 else 0."""

    init: ClassVar[str] = "he"

    def forward(self, z: FloatArray, out: FloatArray) -> FloatArray:
        return np.maximum(z, 0.0, out=out)

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        mask = self._scratch = _like(self._scratch, z.shape)
        np.greater(z, 0.0, out=mask)
        return np.multiply(grad, mask, out=out)


def _valid_slope(instance: Any, attribute: Any, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"slope must be in [0, 1). Received: slope={value!r}")


@attrs.define
class LeakyReLU(_Elementwise):
    """Leaky ReLU: a = z where z > 0 else slope * z; da/dz = 1 or slope. Option: ``slope`` (0.01)."""

    init: ClassVar[str] = "he"
    slope: float = attrs.field(default=0.01, converter=float, validator=_valid_slope)

    def get_config(self) -> Config:
        return {"slope": self.slope}

    def forward(self, z: FloatArray, out: FloatArray) -> FloatArray:
        np.multiply(z, self.slope, out=out)
        return np.maximum(z, out, out=out)  # with slope < 1 the larger of z and slope*z is the answer

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        slope = self._scratch = _like(self._scratch, z.shape)
        np.greater(z, 0.0, out=slope)
        slope *= 1.0 - self.slope
        slope += self.slope
        return np.multiply(grad, slope, out=out)


@attrs.define
class Identity(_Elementwise):
    """No activation: a = z (a linear output, e.g. for regression with ``mse``)."""

    init: ClassVar[str] = "xavier"

    def forward(self, z: FloatArray, out: FloatArray) -> FloatArray:
        if out is not z:
            np.copyto(out, z)
        return out

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        if out is not grad:
            np.copyto(out, grad)
        return out


@attrs.define
class Softmax(_Elementwise):
    """Row-wise softmax: a_i = e^z_i / sum_j e^z_j, so each row is a probability distribution.

    With the ``cross-entropy`` loss the backward pass is fused into dL/dz = a - y (see the loss); alone,
    backward applies the Jacobian: dL/dz = a * (g - sum_j g_j a_j).
    """

    init: ClassVar[str] = "xavier"
    _row_values: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _ones: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def _buffers(self, shape: tuple[int, ...]) -> tuple[FloatArray, FloatArray]:
        rows, columns = shape
        self._row_values = _like(self._row_values, (rows, 1))
        if self._ones.shape != (columns, 1):
            self._ones = np.ones((columns, 1), dtype=np.float32)
        return self._row_values, self._ones

    def forward(self, z: FloatArray, out: FloatArray) -> FloatArray:
        row_values, ones = self._buffers(z.shape)
        np.max(z, axis=1, keepdims=True, out=row_values)
        np.subtract(z, row_values, out=out)  # shifting by the row maximum keeps exp from overflowing
        np.exp(out, out=out)
        np.dot(out, ones, out=row_values)  # a row sum as a matrix-vector product: fewer cycles than sum()
        return np.divide(out, row_values, out=out)

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        row_values, ones = self._buffers(a.shape)
        product = self._scratch = _like(self._scratch, a.shape)
        np.multiply(grad, a, out=product)
        np.dot(product, ones, out=row_values)
        np.subtract(grad, row_values, out=product)
        return np.multiply(a, product, out=out)
