"""The swish activation as a stand-alone netkit plugin: install this package and use ``--activation swish``."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating[Any]]


@attrs.define
class Swish:
    """Swish, a = z * sigmoid(beta z), whose slope is s + beta z s (1 - s) with s = sigmoid(beta z).

    Option: ``beta`` (1.0). Ramachandran, Zoph and Le, "Searching for Activation Functions", 2017.
    """

    init: ClassVar[str] = "he"
    beta: float = attrs.field(default=1.0, converter=float)

    def get_config(self) -> dict[str, Any]:
        return {"beta": self.beta}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Swish:
        return cls(**config)

    def _sigmoid(self, z: Array) -> Array:
        result: Array = 0.5 * np.tanh(0.5 * self.beta * z) + 0.5
        return result

    def forward(self, z: Array, out: Array) -> Array:
        return np.multiply(z, self._sigmoid(z), out=out)

    def backward(self, z: Array, a: Array, grad: Array, out: Array) -> Array:
        s = self._sigmoid(z)
        return np.multiply(grad, s + self.beta * z * s * (1.0 - s), out=out)
