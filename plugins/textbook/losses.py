"""Textbook losses, as in Nielsen's network2: ``value`` is his ``fn`` and ``gradient`` his ``delta``.

Each is averaged over the batch of n rows. Each class is the plugin: its docs live here once, and the fast
forms in :mod:`netkit.plugins.losses` derive from it and only add speed (and, after the output activation
named by their ``fused_activation``, dL/dz directly: there the activation's Jacobian cancels and leaves
(a - y) / n, which the chain rule through the activation reaches too, more slowly).
"""

from __future__ import annotations

import numpy as np

from netkit.protocols import WithoutOptions
from netkit.types import FloatArray

# Added to probabilities before the log: a confidently wrong answer costs a large but finite loss.
EPSILON = 1e-7


class MeanSquaredError(WithoutOptions):
    """L = mean over rows of 1/2 ||a - y||^2; dL/da = (a - y) / n."""

    def value(self, output: FloatArray, target: FloatArray) -> float:
        return float(0.5 * np.sum((output - target) ** 2) / len(output))

    def gradient(self, output: FloatArray, target: FloatArray) -> FloatArray:
        return (output - target) / len(output)


class CrossEntropy(WithoutOptions):
    """L = -mean over rows of sum_k y_k log(a_k + 1e-7); dL/da = -y / ((a + 1e-7) n)."""

    def value(self, output: FloatArray, target: FloatArray) -> float:
        return float(-np.sum(target * np.log(output + EPSILON)) / len(output))

    def gradient(self, output: FloatArray, target: FloatArray) -> FloatArray:
        return -target / (output + EPSILON) / len(output)
