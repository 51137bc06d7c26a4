"""The hand-tuned reference: the same mini-batch training written as one flat NumPy loop, no plugins.

A netkit step (forward, the loss value, backward, one SGD update over a flat parameter vector) with every
trick netkit uses and nothing in between; what it shares with netkit and what it leaves out (transposed
storage of wide layers' weights, the batch helper thread): ``bench/README.md``. netkit's s/epoch over this
loop's is the price of the plugin boundaries; this loop's GFLOP/s is what NumPy allows on the machine.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from netkit.backend import SINGLE_THREAD_BELOW
from netkit.model.network import Network

# netkit's own rules, so that both run the same BLAS threads, activation-buffer layouts and softmax sums.
from netkit.plugins.activations import REPEATED_ROW_VALUES_UP_TO  # type: ignore[import-not-found]
from netkit.plugins.layers import TRANSPOSE_FROM, TRANSPOSE_MAX_ROWS  # type: ignore[import-not-found]  # mypy misses the package-dir mapping

Array = npt.NDArray[np.float32]

# The C functions behind np.dot/np.vdot, without the __array_function__ dispatcher (as netkit's backend).
dot = getattr(np.dot, "_implementation", np.dot)
vdot = getattr(np.vdot, "_implementation", np.vdot)

HALF, ZERO, EPSILON = (np.array(value, dtype=np.float32) for value in (0.5, 0.0, 1e-7))
EXP_FLOOR = np.array(-80.0, dtype=np.float32)


class NumpyLoop:
    """Hidden layers with ``activation`` (sigmoid or relu), a softmax output, cross-entropy, plain SGD."""

    def __init__(self, model: Network, activation: str, learning_rate: float, batch_size: int) -> None:
        if activation not in ("sigmoid", "relu"):
            raise ValueError(f"the NumPy loop knows sigmoid and relu, not {activation!r}")
        self.parameters = model.parameters.copy()
        self.gradients = np.zeros_like(self.parameters)
        self.sizes, self.sigmoid, self.rows = model.sizes, activation == "sigmoid", batch_size
        self.weights: list[Array] = []
        self.biases: list[Array] = []
        self.weight_grads: list[Array] = []
        self.bias_grads: list[Array] = []
        offset = 0
        for fan_in, fan_out in zip(self.sizes, self.sizes[1:], strict=False):
            for store, grads, shape in (
                (self.weights, self.weight_grads, (fan_in, fan_out)),
                (self.biases, self.bias_grads, (fan_out,)),
            ):
                size = int(np.prod(shape))
                store.append(self.parameters[offset : offset + size].reshape(shape))
                grads.append(self.gradients[offset : offset + size].reshape(shape))
                offset += size
        self.delta_scale = np.array(learning_rate / batch_size, dtype=np.float32)
        self.transposed = [
            batch_size <= TRANSPOSE_MAX_ROWS and batch_size * n_in * n_out >= TRANSPOSE_FROM
            for n_in, n_out in zip(self.sizes, self.sizes[1:], strict=False)
        ]
        self.z = [self._buffer(n, t) for n, t in zip(self.sizes[1:], self.transposed, strict=True)]
        self.a = [self._buffer(n, t) for n, t in zip(self.sizes[1:], self.transposed, strict=True)]
        self.grad_z = [self._buffer(n, t) for n, t in zip(self.sizes[1:], self.transposed, strict=True)]
        self.masks = [np.empty_like(z, dtype=bool) for z in self.z]
        # Each row's sum in every column for few classes, as netkit's softmax: the division is then elementwise.
        sum_columns = self.sizes[-1] if self.sizes[-1] <= REPEATED_ROW_VALUES_UP_TO else 1
        self.row_sums = np.empty((batch_size, sum_columns), dtype=np.float32)
        self.class_ones = np.ones((self.sizes[-1], sum_columns), dtype=np.float32)
        self.batch_ones = np.ones(batch_size, dtype=np.float32)
        self.logs = np.empty((batch_size, self.sizes[-1]), dtype=np.float32)
        self.losses: list[float] = []

    def _buffer(self, units: int, transposed: bool) -> Array:
        return np.empty((units, self.rows), np.float32).T if transposed else np.empty((self.rows, units), np.float32)

    @staticmethod
    def _product(a: Array, b: Array, out: Array) -> None:
        if out.flags.c_contiguous:
            np.matmul(a, b, out)
        else:
            np.matmul(b.T, a.T, out.T)  # BLAS writes row-major: out^T = b^T a^T

    def step(self, x: Array, y: Array) -> None:
        last = len(self.weights) - 1
        inputs = [x, *self.a[:-1]]
        for index, (weight, bias, z, a) in enumerate(zip(self.weights, self.biases, self.z, self.a, strict=True)):
            self._product(inputs[index], weight, z)
            np.add(z, bias, z)
            if index == last:  # softmax, shifted by the batch maximum, floored above the subnormals
                np.subtract(z, np.maximum.reduce(z, None), a)
                np.maximum(a, EXP_FLOOR, out=a)
                np.exp(a, a)
                dot(a, self.class_ones, self.row_sums)
                np.divide(a, self.row_sums, a)
            elif self.sigmoid:
                np.multiply(z, HALF, a)
                np.tanh(a, a)
                np.multiply(a, HALF, a)
                np.add(a, HALF, a)
            else:
                np.maximum(z, ZERO, out=a)
        output = self.a[-1]
        np.add(output, EPSILON, self.logs)
        np.log(self.logs, self.logs)
        self.losses.append(-float(vdot(y, self.logs)) / self.rows)
        grad = self.grad_z[-1]
        np.subtract(output, y, grad)
        np.multiply(grad, self.delta_scale, grad)  # lr / n: the update below is one subtraction
        for index in range(last, -1, -1):
            self._product(inputs[index].T, grad, self.weight_grads[index])
            dot(self.batch_ones, grad, self.bias_grads[index])
            if index == 0:
                break
            below = self.grad_z[index - 1]
            self._product(grad, self.weights[index].T, below)
            a = self.a[index - 1]
            if self.sigmoid:
                slope = self.z[index - 1]  # z is not needed any more: reuse it for a (1 - a)
                np.square(a, slope)
                np.subtract(a, slope, slope)
                np.multiply(below, slope, below)
            else:
                np.greater(a, ZERO, self.masks[index - 1])
                np.multiply(below, self.masks[index - 1], below)
            grad = below
        np.subtract(self.parameters, self.gradients, self.parameters)

    def epoch(self, images: Array, targets: Array, rng: np.random.Generator) -> float:
        """Seconds for one shuffled pass over ``images``: full batches only (at most 0.4% fewer rows than netkit)."""
        batch = np.empty((self.rows, images.shape[1]), dtype=np.float32)
        target = np.empty((self.rows, targets.shape[1]), dtype=np.float32)
        work = self.rows * self.parameters.size
        with threadpool_limits(limits=1 if work < SINGLE_THREAD_BELOW else None, user_api="blas"):
            started = time.perf_counter()
            order = rng.permutation(images.shape[0])
            for start in range(0, images.shape[0] - self.rows + 1, self.rows):
                rows = order[start : start + self.rows]
                images.take(rows, 0, batch, "clip")
                targets.take(rows, 0, target, "clip")
                self.step(batch, target)
            return time.perf_counter() - started

    def weights_in_netkit_layout(self) -> list[tuple[Array, Array]]:
        return list(zip(self.weights, self.biases, strict=True))
