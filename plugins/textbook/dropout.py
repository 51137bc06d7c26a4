"""The textbook dropout layer (Srivastava et al. 2014, "inverted" form).

Training: draw u ~ U[0, 1) for every input, keep those with u >= rate, and scale them up so the expected
value is unchanged: mask = [u >= rate] / (1 - rate), a = x * mask. Backward: dL/dx = mask * dL/da.
Inference: a = x. The fast twin is :class:`netkit.plugins.dropout.Dropout`; both draw u in the same order
from the generator the trainer hands them, so they drop the same inputs.
"""

from __future__ import annotations

from typing import ClassVar

import attrs
import numpy as np

from netkit.types import Config, FloatArray


@attrs.define(slots=False)  # so that forward can keep the mask for backward as a plain attribute
class Dropout:
    """Zeroes each input with probability ``rate`` while training; scales the kept ones by 1/(1 - rate)."""

    rate: float = 0.5
    conformance_config: ClassVar[Config] = {"rate": 0.4}
    needs_input_gradient: bool = True
    rng: np.random.Generator = attrs.field(factory=lambda: np.random.default_rng(0), repr=False)

    def get_config(self) -> Config:
        return {"rate": self.rate}

    @classmethod
    def from_config(cls, config: Config) -> Dropout:
        return cls(**config)

    def describe(self) -> str:
        return f"dropout {self.rate:g}"

    def use_generator(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def build(self, input_size: int) -> int:
        return input_size

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {}

    def bind(self, parameters: dict[str, FloatArray], gradients: dict[str, FloatArray]) -> None:
        return None

    def initialize(self, rng: np.random.Generator) -> None:
        return None

    def forward(self, x: FloatArray, training: bool) -> FloatArray:
        self.mask = None
        if not training or self.rate == 0:
            return x
        u = self.rng.random(x.shape, dtype=x.dtype)
        self.mask = (u >= self.rate) / (1 - self.rate)
        return x * self.mask

    def backward(self, grad: FloatArray, pre_activation: bool = False) -> FloatArray | None:
        if not self.needs_input_gradient:
            return None
        return grad if self.mask is None else grad * self.mask
