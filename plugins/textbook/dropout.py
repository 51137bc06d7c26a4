"""The dropout layer in textbook form (Srivastava et al. 2014, "inverted" form).

Training: draw u ~ U[0, 1) for every input, keep those with u >= rate, and scale them up so the expected
value is unchanged: mask = [u >= rate] / (1 - rate), a = x * mask. Backward: dL/dx = mask * dL/da.
Inference: a = x. Its options, checks and docs live here once; the fast form
(:class:`netkit.plugins.dropout.Dropout`) draws the same numbers from the same generator, so both drop the
same inputs.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.errors import ConfigError
from netkit.model.layer import Layer, OnnxOperator, Shape
from netkit.types import Config, FloatArray


def _probability(instance: Any, attribute: Any, value: float) -> None:
    if not (math.isfinite(value) and 0 <= value < 1):
        raise ConfigError(f"dropout rate must be in [0, 1). Received: rate={value!r}")


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # forward keeps the mask for backward
class Dropout(Layer):
    """Zeroes each input with probability ``rate`` (0.5) while training and scales the rest by 1/(1 - rate),
    so that inference, which passes inputs through unchanged, sees the same expected values.

    The masks come from a generator the trainer hands over at each epoch (seeded from the run's generator),
    so a resumed run draws the same masks as an uninterrupted one. Without one, a layer uses seed 0.
    """

    random: ClassVar[bool] = True
    conformance_config: ClassVar[Config] = {"rate": 0.4}

    rate: float = attrs.field(default=0.5, converter=float, validator=_probability)
    rng: np.random.Generator = attrs.field(factory=lambda: np.random.default_rng(0), init=False, repr=False, eq=False)

    def get_config(self) -> Config:
        return {"rate": self.rate}

    def describe(self) -> str:
        return f"dropout {self.rate:g}"

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("Identity")  # inference passes inputs through

    def build(self, input_shape: Shape) -> Shape:
        return input_shape

    def forward(self, x: FloatArray, training: bool = False) -> FloatArray:
        self.mask = None
        if not training or self.rate == 0:
            return x
        u = self.rng.random(x.shape, dtype=x.dtype)
        self.mask = (u >= self.rate) / x.dtype.type(1 - self.rate)
        return x * self.mask

    def backward(self, dy: FloatArray) -> FloatArray:
        return dy if self.mask is None else dy * self.mask
