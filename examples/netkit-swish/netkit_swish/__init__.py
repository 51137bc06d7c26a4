"""The swish activation as a stand-alone netkit plugin: install this package and use ``--activation swish``.

Written in netkit's textbook form, the easy one: ``forward(z)`` returns a, ``backward(z, a, grad)`` returns
dL/dz = grad * da/dz, both as new arrays. netkit adapts it to its fast layers itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating[Any]]


def sigmoid(x: Array) -> Array:
    """1 / (1 + e^-x), written with tanh so that a large -x cannot overflow."""
    result: Array = 0.5 * np.tanh(0.5 * x) + 0.5
    return result


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

    def forward(self, z: Array) -> Array:
        return z * sigmoid(self.beta * z)

    def backward(self, z: Array, a: Array, grad: Array) -> Array:
        s = sigmoid(self.beta * z)
        return grad * (s + self.beta * z * s * (1 - s))
