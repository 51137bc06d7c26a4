"""Built-in losses, each a value (Nielsen's ``fn``) and a gradient (his ``delta``), averaged over the batch.

The fast twins of :mod:`netkit.plugins.textbook.losses` (read those first): the gradients write into the
caller's ``out`` buffer and carry the caller's ``scale`` on their 1/n factor, which is kept as a 0-d array.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.backend import dot, vdot
from netkit.protocols import WithoutOptions
from netkit.types import FloatArray

from .textbook import losses as textbook

_NO_BUFFER = np.empty((0, 0), dtype=np.float32)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class _BatchAveraged(WithoutOptions):
    """The factor ``scale / rows`` as a 0-d array, made once per scale and batch size: a ufunc converts a
    Python float on every call, which costs as much as the multiplication itself on a batch of 32 rows."""

    _factor: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _factor_for: tuple[float, int, np.dtype[Any]] | None = attrs.field(default=None, init=False, repr=False, eq=False)

    def _scale_per_row(self, scale: float, like: FloatArray) -> FloatArray:
        key = (scale, like.shape[0], like.dtype)
        if key != self._factor_for:
            self._factor, self._factor_for = np.array(scale / like.shape[0], dtype=like.dtype), key
        return self._factor


@attrs.define(on_setattr=attrs.setters.NO_OP)  # validated once when built, not on each hot-path assignment
class MeanSquaredError(_BatchAveraged):
    """Half the squared error summed over outputs, averaged over the batch: L = mean_n 1/2 ||a - y||^2.

    The original program's loss (with a sigmoid output); gradient dL/da = (a - y) / n.

    Fast twin of ``textbook.MeanSquaredError``: the value is one dot product, the gradient two ufunc calls
    into ``out``.
    """

    fused_activation: ClassVar[str | None] = "identity"
    textbook_twin: ClassVar[type] = textbook.MeanSquaredError
    _difference: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def value(self, output: FloatArray, target: FloatArray) -> float:
        if self._difference.shape != output.shape:
            self._difference = np.empty_like(output)
        np.subtract(output, target, self._difference)
        flat = self._difference.ravel()
        return 0.5 * float(dot(flat, flat)) / int(output.shape[0])

    def gradient(self, output: FloatArray, target: FloatArray, out: FloatArray, scale: float = 1.0) -> FloatArray:
        np.subtract(output, target, out)
        return np.multiply(out, self._scale_per_row(scale, output), out)

    # With a linear output, dL/dz = dL/da.
    fused_gradient = gradient


# Added to probabilities before the log so that a confidently wrong sample costs a large, finite loss
# (adding is one cheap ufunc call; np.maximum with ``out`` goes through a slower keyword path).
_EPSILON = np.array(1e-7, dtype=np.float32)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class CrossEntropy(_BatchAveraged):
    """Categorical cross-entropy L = -mean_n sum_k y_k log(a_k + 1e-7), for probability outputs (softmax).

    With a softmax output the Jacobian cancels: dL/dz = (a - y) / n, exact and stable, which netkit uses
    whenever the output activation is ``softmax``. With any other output, dL/da = -y / ((a + 1e-7) n).

    Fast twin of ``textbook.CrossEntropy``: in-place ufunc calls, the value's sum as one ``vdot``.
    """

    fused_activation: ClassVar[str | None] = "softmax"
    textbook_twin: ClassVar[type] = textbook.CrossEntropy
    _log: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def value(self, output: FloatArray, target: FloatArray) -> float:
        if self._log.shape != output.shape:
            self._log = np.empty_like(output)
        np.add(output, _EPSILON, self._log)
        np.log(self._log, self._log)
        return -float(vdot(target, self._log)) / int(output.shape[0])

    def gradient(self, output: FloatArray, target: FloatArray, out: FloatArray, scale: float = 1.0) -> FloatArray:
        np.add(output, _EPSILON, out)
        np.divide(target, out, out)
        return np.multiply(out, self._scale_per_row(-scale, output), out)

    def fused_gradient(self, output: FloatArray, target: FloatArray, out: FloatArray, scale: float = 1.0) -> FloatArray:
        np.subtract(output, target, out)
        return np.multiply(out, self._scale_per_row(scale, output), out)
