"""The reference the seed program stands for: one image per step, forward, backward and update each time.

Each layer is one NumPy matrix-vector product (so this is far from the slowest way to do it); what it lacks is
batching. It starts from the same initial weights as the netkit model of the same case.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from netkit.model import Sequential

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]


def _activate(z: Vector, activation: str) -> Vector:
    if activation == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-z) may overflow to inf for very negative z; 1/inf is 0
            sigmoid: Vector = np.reciprocal(np.exp(-z) + np.float32(1.0))
            return sigmoid
    if activation == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(f"the per-sample reference knows sigmoid and relu, not {activation!r}")


def _slope(z: Vector, a: Vector, activation: str) -> Vector:
    if activation == "sigmoid":
        return a * (1.0 - a)
    return (z > 0.0).astype(np.float32)


class PerSampleNet:
    """Hidden layers with ``activation``, a softmax output, cross-entropy loss, plain SGD on single samples."""

    def __init__(self, model: Sequential, activation: str, learning_rate: float) -> None:
        # Weights stored (out, in) so the forward product W @ x reads memory in order.
        self.weights: list[Matrix] = [np.ascontiguousarray(v["weight"].T) for v in model.parameter_views]
        self.biases: list[Vector] = [v["bias"].copy() for v in model.parameter_views]
        self.activation = activation
        self.learning_rate = np.float32(learning_rate)

    def train_one(self, x: Vector, label: int) -> None:
        inputs: list[Vector] = [x]
        pre_activations: list[Vector] = []
        last = len(self.weights) - 1
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = weight @ inputs[-1] + bias
            pre_activations.append(z)
            if index < last:
                inputs.append(_activate(z, self.activation))
        exp = np.exp(z - z.max())
        delta = exp / exp.sum()
        delta[label] -= 1.0  # softmax + cross-entropy: dL/dz = p - y
        for index in range(last, -1, -1):
            weight = self.weights[index]
            previous = weight.T @ delta if index > 0 else None
            weight -= self.learning_rate * np.outer(delta, inputs[index])
            self.biases[index] -= self.learning_rate * delta
            if previous is not None:
                a = inputs[index]
                delta = previous * _slope(pre_activations[index - 1], a, self.activation)

    def weights_in_netkit_layout(self) -> list[tuple[Matrix, Vector]]:
        return [(weight.T, bias) for weight, bias in zip(self.weights, self.biases, strict=True)]


def time_per_sample(
    net: PerSampleNet, images: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], rows: int
) -> float:
    """Seconds to train on the first ``rows`` samples, one at a time, on one BLAS thread.

    A matrix-vector product per layer is too small to gain from a second thread, and on a busy machine a
    thread team waiting for a descheduled member makes it many times slower: one thread is its best case.
    """
    label_list: list[Any] = labels[:rows].tolist()
    with threadpool_limits(limits=1, user_api="blas"):
        started = time.perf_counter()
        for index in range(rows):
            net.train_one(images[index], label_list[index])
        return time.perf_counter() - started
