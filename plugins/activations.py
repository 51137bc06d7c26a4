"""Built-in activations' fast forms: the maths of :mod:`netkit.plugins.textbook.activations` (read those
first: their options, checks and docs are these activations' too), made fast: ``forward_into`` and
``backward_into`` write into the caller's ``out`` buffer (``out`` may be the incoming gradient itself), the
scratch arrays an activation needs are its own, reallocated only when the batch size changes, so a
training step allocates nothing, and constants are 0-d arrays passed positionally (see ``bench/README.md``).
"""

from __future__ import annotations

import math
from typing import Any, overload

import attrs
import numpy as np

from netkit.backend import dot
from netkit.model.fast import FastActivation
from netkit.types import FloatArray

from .textbook import activations as textbook

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

_NO_BUFFER = np.empty((0, 0), dtype=np.float32)
# Constants as 0-d arrays: a ufunc converts a Python float on every call, which costs more than the maths
# on a 32x16 batch. For the same reason ``out`` is passed positionally below.
_HALF = np.array(0.5, dtype=np.float32)
_ONE = np.array(1.0, dtype=np.float32)
_ZERO = np.array(0.0, dtype=np.float32)
# exp(-80) is 1.8e-35; below about -87 float32 results turn subnormal, which makes exp and every later
# operation on them several times slower. Shifted logits are floored here; ...
_EXP_FLOOR = np.array(-80.0, dtype=np.float32)
# ... and a row whose maximum lies more than 40 below the batch maximum (row sum below e^-40) is recomputed
# with its own maximum, so the floor only touches probabilities below e^-40 (4e-18) of their row's largest.
_SMALLEST_ROW_SUM = float(np.exp(-40.0))
# Softmax over z known to lie within +-bound needs neither shift nor floor when bound + ln(classes) is at most
# this: every e^z and each row's sum then stay within [e^-80, e^80], normal float32 numbers.
_UNSHIFTED_UP_TO = 80.0
# Softmax over at most this many classes keeps each row's sum in every column (see ``Softmax._buffers``);
# beyond it the ones-matrix product costs more than dividing by a column (bench/README.md).
REPEATED_ROW_VALUES_UP_TO = 16


def _like(buffer: np.ndarray[Any, Any], like: FloatArray, dtype: Any = None) -> np.ndarray[Any, Any]:
    """``buffer`` if it has ``like``'s shape and memory layout and ``dtype`` (default: like's), else a new one."""
    dtype = like.dtype if dtype is None else np.dtype(dtype)
    strides = like.strides
    if buffer.itemsize != like.itemsize:  # narrower elements (a mask) in the same layout
        strides = tuple(stride // like.itemsize * buffer.itemsize for stride in strides)
    if buffer.shape == like.shape and buffer.dtype == dtype and buffer.strides == strides:
        return buffer
    return np.empty_like(like, dtype=dtype)


@attrs.define(on_setattr=attrs.setters.NO_OP)  # validated once when built, not on each hot-path assignment
class _Elementwise(FastActivation):
    """Shared plumbing: one scratch buffer."""

    _scratch: np.ndarray[Any, Any] = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    # The array the scratch was last fitted to. A layer hands over the same buffers every step, so one
    # identity test replaces the shape, layout and dtype checks, which cost more than the maths at batch 32.
    _scratch_for: object = attrs.field(default=None, init=False, repr=False, eq=False)

    @overload
    def _scratch_like(self, like: FloatArray) -> FloatArray: ...

    @overload
    def _scratch_like(self, like: FloatArray, dtype: type[np.bool_]) -> BoolArray: ...

    def _scratch_like(self, like: FloatArray, dtype: Any = None) -> np.ndarray[Any, Any]:
        """The scratch array, shaped and laid out like ``like``, of ``dtype`` (default: like's)."""
        if like is not self._scratch_for:
            self._scratch, self._scratch_for = _like(self._scratch, like, dtype), like
        return self._scratch


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Sigmoid(textbook.Sigmoid, _Elementwise):
    """Logistic sigmoid, the original network's activation: a = 1 / (1 + e^-z), da/dz = a (1 - a).

    Fast twin of ``textbook.Sigmoid``: four in-place ufunc calls on 0-d constants, and a - a^2 in scratch;
    three from -z, which inference computes as -b - x W in the pass that would add the bias.
    """

    from_negated = True
    output_bound = 1.0

    def forward_from_negated_into(self, negated_z: FloatArray, out: FloatArray) -> FloatArray:
        # e^-z overflows to inf below z = -88, and 1 / (1 + inf) is the 0 the sigmoid is there.
        with np.errstate(over="ignore"):
            np.exp(negated_z, out)
        np.add(out, _ONE, out)
        return np.divide(_ONE, out, out)  # faster than np.reciprocal for float32

    def forward_into(self, z: FloatArray, out: FloatArray) -> FloatArray:
        # 0.5 tanh(z / 2) + 0.5 is the sigmoid, and unlike exp(-z) it cannot overflow.
        np.multiply(z, _HALF, out)
        np.tanh(out, out)
        np.multiply(out, _HALF, out)
        return np.add(out, _HALF, out)

    def backward_into(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        slope = self._scratch_like(a)
        np.square(a, slope)
        np.subtract(a, slope, slope)  # a - a^2 = a (1 - a)
        return np.multiply(grad, slope, out)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Tanh(textbook.Tanh, _Elementwise):
    """Hyperbolic tangent: a = tanh z, da/dz = 1 - a^2.

    Fast twin of ``textbook.Tanh``: in-place ufunc calls into ``out`` and one scratch array.
    """

    output_bound = 1.0

    def forward_into(self, z: FloatArray, out: FloatArray) -> FloatArray:
        return np.tanh(z, out)

    def backward_into(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        slope = self._scratch_like(a)
        np.square(a, slope)
        np.subtract(_ONE, slope, slope)
        return np.multiply(grad, slope, out)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class ReLU(textbook.ReLU, _Elementwise):
    """Rectified linear unit: a = max(z, 0), da/dz = 1 where z > 0 else 0.

    Fast twin of ``textbook.ReLU``: max(z, 0) against kept zeros; the slope is a boolean mask kept between
    steps, applied in place.
    """

    _zeros: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _zeros_for: object = attrs.field(default=None, init=False, repr=False, eq=False)

    def forward_into(self, z: FloatArray, out: FloatArray) -> FloatArray:
        # np.maximum runs its vector loop only for two arrays laid out alike: against a 0-d zero it takes
        # five times as long (73 against 16 µs on 128 x 800), so the zeros are an array shaped like z.
        if z is not self._zeros_for:
            zeros = _like(self._zeros, z)
            if zeros is not self._zeros:  # a new buffer: fill it once
                zeros[...] = 0.0
                self._zeros = zeros
            self._zeros_for = z
        return np.maximum(z, self._zeros, out=out)

    def backward_into(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        # A boolean mask is a quarter of the memory traffic of a float one, which tells on wide layers.
        mask = self._scratch_like(z, np.bool_)
        np.greater(z, _ZERO, mask)
        return np.multiply(grad, mask, out)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class LeakyReLU(textbook.LeakyReLU, _Elementwise):
    """Leaky ReLU: a = z where z > 0 else slope * z; da/dz = 1 or slope. Option: ``slope`` (0.01).

    Fast twin of ``textbook.LeakyReLU``: max(z, slope z) in place, the slope array built in kept scratch.
    """

    def forward_into(self, z: FloatArray, out: FloatArray) -> FloatArray:
        np.multiply(z, self.slope, out)
        return np.maximum(z, out, out=out)  # with slope < 1 the larger of z and slope*z is the answer

    def backward_into(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        slope = self._scratch_like(z)
        np.greater(z, _ZERO, slope)
        slope *= 1.0 - self.slope
        slope += self.slope
        return np.multiply(grad, slope, out)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Identity(textbook.Identity, _Elementwise):
    """No activation: a = z (a linear output, e.g. for regression with ``mse``).

    Fast twin of ``textbook.Identity``: copies only when ``out`` is not already the input.
    """

    def forward_into(self, z: FloatArray, out: FloatArray) -> FloatArray:
        if out is not z:
            np.copyto(out, z)
        return out

    def backward_into(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        if out is not grad:
            np.copyto(out, grad)
        return out


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Softmax(textbook.Softmax, _Elementwise):
    """Row-wise softmax: a_i = e^z_i / sum_j e^z_j, so each row is a probability distribution.

    With the ``cross-entropy`` loss the backward pass is fused into dL/dz = a - y (see the loss); alone,
    backward applies the Jacobian: dL/dz = a * (g - sum_j g_j a_j).

    Fast twin of ``textbook.Softmax``: one batch-wide shift instead of one per row (with a per-row fallback),
    row sums as one BLAS product with a ones matrix, exponents floored so that no subnormal float appears.
    """

    bounded_form = True

    _row_values: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _row_max: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _ones: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def _buffers(self, like: FloatArray) -> tuple[FloatArray, FloatArray]:
        row_values, ones = self._row_values, self._ones
        if row_values.shape[0] == like.shape[0] and ones.shape[0] == like.shape[1] and ones.dtype == like.dtype:
            return row_values, ones  # the usual case, checked with as few look-ups as possible
        # With few classes, a product with a ones matrix puts each row's sum in every column, so that the
        # division after it is an elementwise one, cheaper than dividing by a column (bench/README.md).
        columns = like.shape[1] if like.shape[1] <= REPEATED_ROW_VALUES_UP_TO else 1
        self._row_values = np.empty((like.shape[0], columns), dtype=like.dtype)
        self._row_max = np.empty((like.shape[0], 1), dtype=like.dtype)
        self._ones = np.ones((like.shape[1], columns), dtype=like.dtype)
        return self._row_values, self._ones

    def forward_into(self, z: FloatArray, out: FloatArray) -> FloatArray:
        row_sums, ones = self._buffers(z)
        # Any per-row shift leaves softmax unchanged; shifting by the batch maximum (one scalar) keeps exp
        # from overflowing and costs a third of a per-row maximum on small batches.
        np.subtract(z, np.maximum.reduce(z, None), out)
        np.maximum(out, _EXP_FLOOR, out=out)  # unlike np.fmax, keeps a NaN a NaN: a diverged net must show
        np.exp(out, out)
        dot(out, ones, row_sums)  # row sums as a matrix product: one BLAS call
        if not np.minimum.reduce(row_sums, None) > _SMALLEST_ROW_SUM:
            # A row far below the batch maximum (or a NaN): shift each row by its own maximum instead.
            np.maximum.reduce(z, 1, None, self._row_max.reshape(-1))  # type: ignore[call-overload]
            np.subtract(z, self._row_max, out)
            np.maximum(out, _EXP_FLOOR, out=out)
            np.exp(out, out)
            dot(out, ones, row_sums)
        return np.divide(out, row_sums, out)

    def forward_bounded_into(self, z: FloatArray, out: FloatArray, bound: float) -> FloatArray:
        # The shift and the floor have nothing to do (see _UNSHIFTED_UP_TO): e^z / sum_j e^z_j as it stands.
        if bound + math.log(z.shape[1]) > _UNSHIFTED_UP_TO:
            return self.forward_into(z, out)
        row_sums, ones = self._buffers(z)
        np.exp(z, out)
        dot(out, ones, row_sums)
        return np.divide(out, row_sums, out)

    def backward_into(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        row_values, ones = self._buffers(a)
        product = self._scratch_like(a)
        np.multiply(grad, a, product)
        dot(product, ones, row_values)
        np.subtract(grad, row_values, product)
        return np.multiply(a, product, out)
