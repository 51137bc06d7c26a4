"""Built-in losses, each a value (Nielsen's ``fn``) and a gradient (his ``delta``), averaged over the batch.

The fast forms of :mod:`netkit.plugins.textbook.losses` (read those first: their options and docs are these
losses' too): the gradients write into the caller's ``out`` buffer with their 1/n factor kept as a 0-d array,
and with the output activation named by ``fused_activation`` the model asks for dL/dz directly.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.backend import dot, vdot
from netkit.model.fast import FastLoss
from netkit.types import FloatArray

from .textbook import losses as textbook

_NO_BUFFER = np.empty((0, 0), dtype=np.float32)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class _BatchAveraged(FastLoss):
    """The factor ``sign / rows`` as a 0-d array, made once per sign and batch size: a ufunc converts a
    Python float on every call, which costs as much as the multiplication itself on a batch of 32 rows."""

    _factor: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _factor_for: tuple[float, int, np.dtype[Any]] | None = attrs.field(default=None, init=False, repr=False, eq=False)

    def _scale_per_row(self, sign: float, like: FloatArray) -> FloatArray:
        key = (sign, like.shape[0], like.dtype)
        if key != self._factor_for:
            self._factor, self._factor_for = np.array(sign / like.shape[0], dtype=like.dtype), key
        return self._factor


@attrs.define(on_setattr=attrs.setters.NO_OP)  # validated once when built, not on each hot-path assignment
class MeanSquaredError(textbook.MeanSquaredError, _BatchAveraged):
    """Half the squared error summed over outputs, averaged over the batch: L = mean_n 1/2 ||a - y||^2.

    The original program's loss (with a sigmoid output); gradient dL/da = (a - y) / n.

    Fast form: the value is one dot product, the gradient two ufunc calls into ``out``.
    """

    fused_activation: ClassVar[str | None] = "identity"
    _difference: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def value(self, output: FloatArray, target: FloatArray) -> float:
        if self._difference.shape != output.shape:
            self._difference = np.empty_like(output)
        np.subtract(output, target, self._difference)
        flat = self._difference.ravel()
        return 0.5 * float(dot(flat, flat)) / int(output.shape[0])

    def gradient_into(self, output: FloatArray, target: FloatArray, out: FloatArray) -> FloatArray:
        np.subtract(output, target, out)
        return np.multiply(out, self._scale_per_row(1.0, output), out)

    # With a linear output, dL/dz = dL/da.
    fused_gradient_into = gradient_into


# Added to probabilities before the log so that a confidently wrong sample costs a large, finite loss
# (adding is one cheap ufunc call; np.maximum with ``out`` goes through a slower keyword path).
_EPSILON = np.array(1e-7, dtype=np.float32)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class CrossEntropy(textbook.CrossEntropy, _BatchAveraged):
    """Categorical cross-entropy L = -mean_n sum_k y_k log(a_k + 1e-7), for probability outputs (softmax).

    With a softmax output the Jacobian cancels: dL/dz = (a - y) / n, exact and stable, which netkit uses
    whenever the output activation is ``softmax``. With any other output, dL/da = -y / ((a + 1e-7) n).

    Fast form: in-place ufunc calls, the value's sum as one ``vdot``.
    """

    fused_activation: ClassVar[str | None] = "softmax"
    _log: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def value(self, output: FloatArray, target: FloatArray) -> float:
        if self._log.shape != output.shape:
            self._log = np.empty_like(output)
        np.add(output, _EPSILON, self._log)
        np.log(self._log, self._log)
        return -float(vdot(target, self._log)) / int(output.shape[0])

    def gradient_into(self, output: FloatArray, target: FloatArray, out: FloatArray) -> FloatArray:
        np.add(output, _EPSILON, out)
        np.divide(target, out, out)
        return np.multiply(out, self._scale_per_row(-1.0, output), out)

    def fused_gradient_into(self, output: FloatArray, target: FloatArray, out: FloatArray) -> FloatArray:
        np.subtract(output, target, out)
        return np.multiply(out, self._scale_per_row(1.0, output), out)
