"""The built-in ``dropout`` layer's fast form: inverted dropout (Srivastava et al. 2014), off at inference.

The maths of :class:`netkit.plugins.textbook.dropout.Dropout` (read that first; its options, checks and docs
are this layer's too): the same draws from the same generator, written into buffers made once per batch
shape, and the gradient masked in place.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from netkit.model.fast import FastLayer
from netkit.types import FloatArray

from .textbook import dropout as textbook

_NO_BUFFER = np.empty((0, 0), dtype=np.float32)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Dropout(textbook.Dropout, FastLayer):
    """Zeroes each input with probability ``rate`` (0.5) while training and scales the rest by 1/(1 - rate),
    so that inference, which passes inputs through unchanged, sees the same expected values.

    The masks come from a generator the trainer hands over at each epoch (seeded from the run's generator),
    so a resumed run draws the same masks as an uninterrupted one. Without one, a layer uses seed 0.
    """

    _mask: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _output: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _random: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _masked: bool = attrs.field(default=False, init=False, repr=False, eq=False)  # the last forward dropped

    def fast_forward(self, x: FloatArray, training: bool) -> FloatArray:
        self._masked = training and self.rate > 0
        if not self._masked:
            return x
        if self._mask.shape != x.shape or self._mask.dtype != x.dtype:
            # Laid out like x (a wide layer hands over column-major outputs), so the products stay elementwise.
            transposed = x.flags.f_contiguous and not x.flags.c_contiguous
            self._mask = np.empty_like(x, order="F" if transposed else "C")
            self._output = np.empty_like(self._mask)
            self._random = np.empty(x.shape, dtype=x.dtype)
        random: Any = self.rng.random
        random(dtype=self._random.dtype.type, out=self._random)
        # mask = [u >= rate] / (1 - rate): kept inputs carry the dropped ones' expected share.
        np.greater_equal(self._random, self.rate, out=self._mask)
        self._mask *= 1 / (1 - self.rate)
        return np.multiply(x, self._mask, self._output)

    def fast_backward(self, grad: FloatArray, dz_given: bool, input_gradient: bool) -> FloatArray | None:
        if not input_gradient:
            return None
        if not self._masked:
            return grad
        return np.multiply(grad, self._mask, grad)  # grad is the caller's scratch (see netkit.model.fast)
