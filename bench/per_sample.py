"""The reference the seed program stands for: one image per step, forward, backward and update each time.

It trains netkit's textbook twins (``netkit.plugins.textbook``, the readable maths) on batches of a single
row, so each layer is one small matrix product (far from the slowest way to do it); what it lacks is
batching. It starts from the same initial weights as the netkit model of the same case.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from netkit.model import Sequential


class PerSampleNet:
    """``model``'s network as textbook twins, trained by plain SGD on one sample per step."""

    def __init__(self, model: Sequential, learning_rate: float) -> None:
        self.model = Sequential.from_config(model.get_config(), registry=model.registry.textbook_form())
        self.model.parameters[...] = model.to_file_order(model.parameters)  # twins keep no transposed weights
        self.learning_rate = learning_rate
        self.targets = np.eye(model.output_size, dtype=np.float32)
        self.scratch = np.empty((1, model.output_size), dtype=np.float32)

    def train_one(self, x: npt.NDArray[np.float32], label: int) -> None:
        output = self.model.forward(x[np.newaxis], True)
        self.model.backward(output, self.targets[label : label + 1], self.scratch)
        self.model.parameters -= self.learning_rate * self.model.gradients

    def weights_in_netkit_layout(self) -> list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]:
        return [(views["weight"], views["bias"]) for views in self.model.parameter_views]


def time_per_sample(
    net: PerSampleNet, images: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], rows: int
) -> float:
    """Seconds to train on the first ``rows`` samples, one at a time, on one BLAS thread.

    A one-row product per layer is too small to gain from a second thread, and on a busy machine a thread
    team waiting for a descheduled member makes it many times slower: one thread is its best case.
    """
    label_list: list[Any] = labels[:rows].tolist()
    with threadpool_limits(limits=1, user_api="blas"):
        started = time.perf_counter()
        for index in range(rows):
            net.train_one(images[index], label_list[index])
        return time.perf_counter() - started
