"""Built-in optimisers: how many samples a step sees, and how the parameters move.

An optimiser is bound to the model's flat parameter and gradient vectors, so each update is a few NumPy
calls over all layers at once. These are the fast twins of :mod:`netkit.plugins.textbook.optimizers` (read
those first): they update in place, without temporary arrays, and plain gradient descent and momentum ask
the trainer to fold the learning rate into the gradients it computes (``gradient_scale``), which makes
their update one subtraction.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.types import Config, FloatArray

from .textbook import optimizers as textbook

_NO_BUFFER = np.empty(0, dtype=np.float32)


def _positive_finite(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a positive number. Received: {attribute.name}={value!r}")


def _positive_int(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1. Received: {attribute.name}={value!r}")


def _unit_interval(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{attribute.name} must be in [0, 1). Received: {attribute.name}={value!r}")


def _not_negative(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{attribute.name} must be 0 or more. Received: {attribute.name}={value!r}")


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _positive_or_none(instance: Any, attribute: attrs.Attribute[float | None], value: float | None) -> None:
    if value is not None:
        _positive_finite(instance, attribute, value)  # type: ignore[arg-type]


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"expected a whole number. Received: {value!r}")
    return int(value)


@attrs.define(on_setattr=attrs.setters.NO_OP)  # validated once when built, not on each hot-path assignment
class _GradientDescent:
    """Plain gradient descent, p <- p - lr * g; subclasses choose the batch size.

    It asks the trainer for gradients already multiplied by the learning rate (``gradient_scale``): the
    model scales the small output-layer delta once, and the update over all parameters is a single
    subtraction. That fold is private to the training step: the gradients anyone reads are dL/dp.
    """

    learning_rate: float = attrs.field(default=0.1, converter=float, validator=_positive_finite)
    # Weight constraints, applied by the trainer around each step (see netkit.training.regularisation).
    weight_decay: float = attrs.field(default=0.0, kw_only=True, converter=float, validator=_not_negative)
    max_norm: float | None = attrs.field(
        default=None, kw_only=True, converter=_optional_float, validator=_positive_or_none
    )
    _parameters: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _gradients: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def get_config(self) -> Config:
        return {"learning_rate": self.learning_rate, **self._constraints()}

    def _constraints(self) -> Config:
        """The weight-constraint options that are set (none by default, so older configs read the same)."""
        config: Config = {}
        if self.weight_decay:
            config["weight_decay"] = self.weight_decay
        if self.max_norm is not None:
            config["max_norm"] = self.max_norm
        return config

    @classmethod
    def from_config(cls, config: Config) -> Any:
        config = dict(config)
        if "lr" in config:  # the short name users type on the command line
            config["learning_rate"] = config.pop("lr")
        return cls(**config)

    def samples_per_step(self, n_samples: int) -> int:
        raise NotImplementedError

    @property
    def gradient_scale(self) -> float:
        return self.learning_rate

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None:
        self._parameters, self._gradients = parameters, gradients

    def step(self) -> None:
        np.subtract(self._parameters, self._gradients, self._parameters)  # the gradients hold lr * g

    def state(self) -> dict[str, Any]:
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        return None


@attrs.define(on_setattr=attrs.setters.NO_OP)
class FullBatch(_GradientDescent):
    """Full-batch gradient descent: one step per epoch on the whole training set.

    Fast twin of ``textbook.FullBatch`` (see ``_GradientDescent`` for how).
    """

    textbook_twin: ClassVar[type] = textbook.FullBatch

    learning_rate: float = attrs.field(default=1.0, converter=float, validator=_positive_finite)

    def samples_per_step(self, n_samples: int) -> int:
        return n_samples


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Stochastic(_GradientDescent):
    """Stochastic gradient descent: one sample per step (the original program's way).

    Fast twin of ``textbook.Stochastic`` (see ``_GradientDescent`` for how).
    """

    textbook_twin: ClassVar[type] = textbook.Stochastic

    learning_rate: float = attrs.field(default=0.01, converter=float, validator=_positive_finite)

    def samples_per_step(self, n_samples: int) -> int:
        return 1


@attrs.define(on_setattr=attrs.setters.NO_OP)
class MiniBatch(_GradientDescent):
    """Mini-batch gradient descent: ``batch_size`` samples per step (default 32).

    Fast twin of ``textbook.MiniBatch``: the learning rate rides on the gradients, the update is one subtraction.
    """

    textbook_twin: ClassVar[type] = textbook.MiniBatch

    learning_rate: float = attrs.field(default=0.5, converter=float, validator=_positive_finite)
    batch_size: int = attrs.field(default=32, converter=_to_int, validator=_positive_int)

    def get_config(self) -> Config:
        return {"learning_rate": self.learning_rate, "batch_size": self.batch_size, **self._constraints()}

    def samples_per_step(self, n_samples: int) -> int:
        return min(self.batch_size, n_samples)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Momentum(MiniBatch):
    """Mini-batch SGD with momentum: v <- beta v + g, p <- p - lr v. Options: ``beta`` (0.9), ``batch_size``.

    Fast twin of ``textbook.Momentum``: with gradients pre-scaled by the learning rate it keeps u = lr v, so
    u <- beta u + lr g, p <- p - u, three in-place calls (the twin writes the same u).
    """

    textbook_twin: ClassVar[type] = textbook.Momentum

    learning_rate: float = attrs.field(default=0.05, converter=float, validator=_positive_finite)
    batch_size: int = attrs.field(default=32, converter=_to_int, validator=_positive_int)
    beta: float = attrs.field(default=0.9, converter=float, validator=_unit_interval)
    _velocity: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def get_config(self) -> Config:
        return {**super().get_config(), "beta": self.beta}

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None:
        super().bind(parameters, gradients)
        self._velocity = np.zeros_like(parameters)

    def step(self) -> None:
        np.multiply(self._velocity, self.beta, self._velocity)
        np.add(self._velocity, self._gradients, self._velocity)
        np.subtract(self._parameters, self._velocity, self._parameters)

    def state(self) -> dict[str, Any]:
        return {"velocity": self._velocity.copy()}

    def load_state(self, state: dict[str, Any]) -> None:
        np.copyto(self._velocity, np.asarray(state["velocity"], dtype=np.float32))


@attrs.define(on_setattr=attrs.setters.NO_OP)
class Adam(MiniBatch):
    """Adam (Kingma and Ba 2015) on mini-batches. Options: ``beta1`` (0.9), ``beta2`` (0.999), ``epsilon``.

    Fast twin of ``textbook.Adam``: the same formula as in-place calls through one scratch vector.
    """

    textbook_twin: ClassVar[type] = textbook.Adam

    learning_rate: float = attrs.field(default=0.001, converter=float, validator=_positive_finite)
    batch_size: int = attrs.field(default=32, converter=_to_int, validator=_positive_int)
    beta1: float = attrs.field(default=0.9, converter=float, validator=_unit_interval)
    beta2: float = attrs.field(default=0.999, converter=float, validator=_unit_interval)
    epsilon: float = attrs.field(default=1e-8, converter=float, validator=_positive_finite)
    _update: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _first: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _second: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _steps: int = attrs.field(default=0, init=False, repr=False, eq=False)

    def get_config(self) -> Config:
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}

    @property
    def gradient_scale(self) -> float:
        return 1.0  # Adam needs the true gradient: its step size comes from the moments

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None:
        super().bind(parameters, gradients)
        self._update = np.zeros_like(parameters)
        self._first = np.zeros_like(parameters)
        self._second = np.zeros_like(parameters)
        self._steps = 0

    def step(self) -> None:
        self._steps += 1
        first, second, update = self._first, self._second, self._update
        first *= self.beta1
        np.multiply(self._gradients, 1.0 - self.beta1, update)
        first += update
        second *= self.beta2
        np.square(self._gradients, update)
        update *= 1.0 - self.beta2
        second += update
        # The bias corrections fold into one step size (the paper's section 2 "efficient version").
        step_size = self.learning_rate * math.sqrt(1.0 - self.beta2**self._steps) / (1.0 - self.beta1**self._steps)
        np.sqrt(second, update)
        update += self.epsilon
        np.divide(first, update, update)
        update *= step_size
        np.subtract(self._parameters, update, self._parameters)

    def state(self) -> dict[str, Any]:
        return {
            "first_moment": self._first.copy(),
            "second_moment": self._second.copy(),
            "steps": self._steps,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        np.copyto(self._first, np.asarray(state["first_moment"], dtype=np.float32))
        np.copyto(self._second, np.asarray(state["second_moment"], dtype=np.float32))
        self._steps = int(state["steps"])
