"""The built-in ``dropout`` layer: inverted dropout (Srivastava et al. 2014), off at inference.

The fast twin of :class:`netkit.plugins.textbook.dropout.Dropout` (read that first): the same draws from the
same generator, written into buffers made once per batch shape, and the gradient masked in place.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.errors import ConfigError
from netkit.types import Config, FloatArray

from .textbook import dropout as textbook

_NO_BUFFER = np.empty((0, 0), dtype=np.float32)


def _probability(instance: Any, attribute: Any, value: float) -> None:
    if not (math.isfinite(value) and 0 <= value < 1):
        raise ConfigError(f"dropout rate must be in [0, 1). Received: rate={value!r}")


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Dropout:
    """Zeroes each input with probability ``rate`` (0.5) while training and scales the rest by 1/(1 - rate),
    so that inference, which passes inputs through unchanged, sees the same expected values.

    The masks come from a generator the trainer hands over at each epoch (seeded from the run's generator),
    so a resumed run draws the same masks as an uninterrupted one. Without one, a layer uses seed 0.
    """

    textbook_twin: ClassVar[type] = textbook.Dropout

    rate: float = attrs.field(default=0.5, converter=float, validator=_probability)
    conformance_config: ClassVar[Config] = {"rate": 0.4}
    needs_input_gradient: bool = attrs.field(default=True, eq=False)
    size: int = attrs.field(default=0, init=False, eq=False)
    _rng: np.random.Generator = attrs.field(factory=lambda: np.random.default_rng(0), init=False, eq=False)
    _mask: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _output: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _random: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _masked: bool = attrs.field(default=False, init=False, repr=False, eq=False)  # the last forward dropped

    def get_config(self) -> Config:
        return {"rate": self.rate}

    @classmethod
    def from_config(cls, config: Config) -> Dropout:
        return cls(**config)

    def describe(self) -> str:
        return f"dropout {self.rate:g}"

    def use_generator(self, rng: np.random.Generator) -> None:
        """Draw the masks from ``rng`` from now on."""
        self._rng = rng

    def build(self, input_size: int) -> int:
        self.size = input_size
        return input_size

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {}

    def bind(self, parameters: dict[str, FloatArray], gradients: dict[str, FloatArray]) -> None:
        return None

    def initialize(self, rng: np.random.Generator) -> None:
        return None

    def forward(self, x: FloatArray, training: bool) -> FloatArray:
        self._masked = training and self.rate > 0
        if not self._masked:
            return x
        if self._mask.shape != x.shape or self._mask.dtype != x.dtype:
            # Laid out like x (a wide layer hands over column-major outputs), so the products stay elementwise.
            transposed = x.flags.f_contiguous and not x.flags.c_contiguous
            self._mask = np.empty_like(x, order="F" if transposed else "C")
            self._output = np.empty_like(self._mask)
            self._random = np.empty(x.shape, dtype=x.dtype)
        random: Any = self._rng.random
        random(dtype=self._random.dtype.type, out=self._random)
        # mask = [u >= rate] / (1 - rate): kept inputs carry the dropped ones' expected share.
        np.greater_equal(self._random, self.rate, out=self._mask)
        self._mask *= 1 / (1 - self.rate)
        return np.multiply(x, self._mask, self._output)

    def backward(self, grad: FloatArray, pre_activation: bool = False) -> FloatArray | None:
        if not self.needs_input_gradient:
            return None
        if not self._masked:
            return grad
        return np.multiply(grad, self._mask, grad)  # grad is the caller's scratch (see Layer.backward)
