"""Textbook losses, as in Nielsen's network2: ``value`` is his ``fn`` and ``gradient`` his ``delta``.

Each is averaged over the batch of n rows. ``fused_gradient`` is dL/dz of the output layer when its
activation is ``fused_activation``: there the activation's Jacobian cancels and leaves a - y. The fast
twins are in :mod:`netkit.plugins.losses`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from netkit.protocols import WithoutOptions
from netkit.types import FloatArray

# Added to probabilities before the log: a confidently wrong answer costs a large but finite loss.
EPSILON = 1e-7


class MeanSquaredError(WithoutOptions):
    """L = mean over rows of 1/2 ||a - y||^2; dL/da = (a - y) / n."""

    fused_activation: ClassVar[str | None] = "identity"

    def value(self, output: FloatArray, target: FloatArray) -> float:
        return float(0.5 * np.sum((output - target) ** 2) / len(output))

    def gradient(self, output: FloatArray, target: FloatArray) -> FloatArray:
        return (output - target) / len(output)

    def fused_gradient(self, output: FloatArray, target: FloatArray) -> FloatArray:
        return (output - target) / len(output)  # a linear output: dL/dz = dL/da


class CrossEntropy(WithoutOptions):
    """L = -mean over rows of sum_k y_k log(a_k + 1e-7); dL/da = -y / ((a + 1e-7) n).

    After a softmax, dL/dz = (a - y) / n.
    """

    fused_activation: ClassVar[str | None] = "softmax"

    def value(self, output: FloatArray, target: FloatArray) -> float:
        return float(-np.sum(target * np.log(output + EPSILON)) / len(output))

    def gradient(self, output: FloatArray, target: FloatArray) -> FloatArray:
        return -target / (output + EPSILON) / len(output)

    def fused_gradient(self, output: FloatArray, target: FloatArray) -> FloatArray:
        return (output - target) / len(output)
