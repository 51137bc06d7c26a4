"""Built-in optimisers: how many samples a step sees, and how the parameters move.

The fast forms of :mod:`netkit.plugins.textbook.optimizers` (read those first: their options, checks and docs
are these optimisers' too). Each overrides only ``step``, with the same formula as in-place NumPy calls
through a scratch vector kept between steps, so an update allocates nothing.
"""

from __future__ import annotations

import math

import numpy as np

from netkit.model.fast import Fast
from netkit.types import FloatArray

from .textbook import optimizers as textbook

_NO_BUFFER = np.empty(0, dtype=np.float32)


class _InPlace(textbook.GradientDescent, Fast):
    """p <- p - lr g through one scratch vector."""

    _scratch: FloatArray = _NO_BUFFER
    # The rate as a 0-d array, remade when a schedule changes it: a ufunc converts a Python float on every
    # call, which costs a fifth of this step on the seed net.
    _rate: FloatArray = _NO_BUFFER
    _rate_for: float | None = None  # the learning rate ``_rate`` holds

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None:
        super().bind(parameters, gradients)
        self._scratch = np.empty_like(parameters)
        self._rate_for = None  # perhaps another dtype

    def _rate_array(self) -> FloatArray:
        if self.learning_rate != self._rate_for:
            self._rate, self._rate_for = np.array(self.learning_rate, dtype=self.parameters.dtype), self.learning_rate
        return self._rate

    def step(self) -> None:
        update = np.multiply(self.gradients, self._rate_array(), self._scratch)
        np.subtract(self.parameters, update, self.parameters)


class FullBatch(textbook.FullBatch, _InPlace):
    """Full-batch gradient descent: one step per epoch on the whole training set."""


class Stochastic(textbook.Stochastic, _InPlace):
    """Stochastic gradient descent: one sample per step (the original program's way)."""


class MiniBatch(textbook.MiniBatch, _InPlace):
    """Mini-batch gradient descent: ``batch_size`` samples per step (default 32)."""


class Momentum(textbook.Momentum, _InPlace):
    """Mini-batch SGD with momentum: v <- beta v + lr g, p <- p - v. Options: ``beta`` (0.9), ``batch_size``.

    Fast form: four in-place calls on the kept velocity and one scratch vector.
    """

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None:
        super().bind(parameters, gradients)
        self.velocity = np.zeros_like(parameters)

    def step(self) -> None:
        velocity = self.velocity
        np.multiply(velocity, self.beta, velocity)
        velocity += np.multiply(self.gradients, self._rate_array(), self._scratch)
        np.subtract(self.parameters, velocity, self.parameters)

    def load_state(self, state: dict[str, object]) -> None:
        np.copyto(self.velocity, np.asarray(state["velocity"], dtype=self.parameters.dtype))


class Adam(textbook.Adam, _InPlace):
    """Adam (Kingma and Ba 2015) on mini-batches. Options: ``beta1`` (0.9), ``beta2`` (0.999), ``epsilon``.

    Fast form: the same formula as in-place calls through one scratch vector.
    """

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None:
        super().bind(parameters, gradients)
        self.first_moment, self.second_moment, self.steps = np.zeros_like(parameters), np.zeros_like(parameters), 0

    def step(self) -> None:
        self.steps += 1
        first, second, update = self.first_moment, self.second_moment, self._scratch
        first *= self.beta1
        np.multiply(self.gradients, 1.0 - self.beta1, update)
        first += update
        second *= self.beta2
        np.square(self.gradients, update)
        update *= 1.0 - self.beta2
        second += update
        # The bias corrections fold into one step size (the paper's section 2 "efficient version").
        step_size = self.learning_rate * math.sqrt(1.0 - self.beta2**self.steps) / (1.0 - self.beta1**self.steps)
        np.sqrt(second, update)
        update += self.epsilon
        np.divide(first, update, update)
        update *= step_size
        np.subtract(self.parameters, update, self.parameters)

    def load_state(self, state: dict[str, object]) -> None:
        np.copyto(self.first_moment, np.asarray(state["first_moment"], dtype=self.parameters.dtype))
        np.copyto(self.second_moment, np.asarray(state["second_moment"], dtype=self.parameters.dtype))
        self.steps = int(state["steps"])  # type: ignore[call-overload]
