"""Textbook optimisers: each ``step`` is its update formula on the model's parameters p and gradients g.

``bind`` hands over the model's flat parameter and gradient vectors (g holds dL/dp after each backward
pass); ``step`` changes p in place. Each class is the plugin: its options, checks and docs live here once,
and the fast forms in :mod:`netkit.plugins.optimizers` derive from it and only override ``step``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.types import Config, FloatArray

_EMPTY = np.empty(0, dtype=np.float32)


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


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # validated when built; fast forms add scratch
class GradientDescent:
    """p <- p - lr g. Subclasses say how many samples a step sees."""

    learning_rate: float = attrs.field(default=0.1, converter=float, validator=_positive_finite)
    # L2 weight decay and max-norm: the trainer applies them around ``step`` (see netkit.training.regularisation).
    weight_decay: float = attrs.field(default=0.0, kw_only=True, converter=float, validator=_not_negative)
    max_norm: float | None = attrs.field(
        default=None, kw_only=True, converter=_optional_float, validator=_positive_or_none
    )
    parameters: FloatArray = attrs.field(default=_EMPTY, init=False, repr=False)
    gradients: FloatArray = attrs.field(default=_EMPTY, init=False, repr=False)

    def get_config(self) -> Config:
        return {"learning_rate": self.learning_rate, **self.constraints()}

    def constraints(self) -> Config:
        set_options = {"weight_decay": self.weight_decay or None, "max_norm": self.max_norm}
        return {key: value for key, value in set_options.items() if value is not None}

    # The short name users type on the command line (optimizer specs and --lr).
    option_aliases: ClassVar[dict[str, str]] = {"lr": "learning_rate"}

    @classmethod
    def from_config(cls, config: Config) -> Any:
        config = dict(config)
        if "lr" in config:
            config["learning_rate"] = config.pop("lr")
        return cls(**config)

    def samples_per_step(self, n_samples: int) -> int:
        raise NotImplementedError

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None:
        self.parameters, self.gradients = parameters, gradients

    def step(self) -> None:
        self.parameters -= self.learning_rate * self.gradients

    def state(self) -> dict[str, Any]:
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        return None


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # validated when built; fast forms add scratch
class FullBatch(GradientDescent):
    """Gradient descent on the whole training set: one step per epoch."""

    learning_rate: float = attrs.field(default=1.0, converter=float, validator=_positive_finite)

    def samples_per_step(self, n_samples: int) -> int:
        return n_samples


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # validated when built; fast forms add scratch
class Stochastic(GradientDescent):
    """Gradient descent on one sample per step."""

    learning_rate: float = attrs.field(default=0.01, converter=float, validator=_positive_finite)

    def samples_per_step(self, n_samples: int) -> int:
        return 1


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # validated when built; fast forms add scratch
class MiniBatch(GradientDescent):
    """Gradient descent on ``batch_size`` samples per step."""

    learning_rate: float = attrs.field(default=0.5, converter=float, validator=_positive_finite)
    batch_size: int = attrs.field(default=32, converter=_to_int, validator=_positive_int)

    def get_config(self) -> Config:
        return {"learning_rate": self.learning_rate, "batch_size": self.batch_size, **self.constraints()}

    def samples_per_step(self, n_samples: int) -> int:
        return min(self.batch_size, n_samples)


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # validated when built; fast forms add scratch
class Momentum(MiniBatch):
    """v <- beta v + lr g, then p <- p - v: the velocity v remembers past steps (lr folded into v)."""

    learning_rate: float = attrs.field(default=0.05, converter=float, validator=_positive_finite)
    batch_size: int = attrs.field(default=32, converter=_to_int, validator=_positive_int)
    beta: float = attrs.field(default=0.9, converter=float, validator=_unit_interval)
    velocity: FloatArray = attrs.field(default=_EMPTY, init=False, repr=False)

    def get_config(self) -> Config:
        return {**super().get_config(), "beta": self.beta}

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None:
        super().bind(parameters, gradients)
        self.velocity = np.zeros_like(parameters)

    def step(self) -> None:
        self.velocity = self.beta * self.velocity + self.learning_rate * self.gradients
        self.parameters -= self.velocity

    def state(self) -> dict[str, Any]:
        return {"velocity": self.velocity.copy()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.velocity = np.array(state["velocity"], dtype=self.parameters.dtype)


@attrs.define(slots=False, on_setattr=attrs.setters.NO_OP)  # validated when built; fast forms add scratch
class Adam(MiniBatch):
    """Adam (Kingma and Ba 2015): running means m of g and v of g^2, bias-corrected, set each step's size.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr_t m / (sqrt(v) + eps), where
    lr_t = lr sqrt(1 - b2^t) / (1 - b1^t) applies both bias corrections at once (the paper's section 2).
    """

    learning_rate: float = attrs.field(default=0.001, converter=float, validator=_positive_finite)
    batch_size: int = attrs.field(default=32, converter=_to_int, validator=_positive_int)
    beta1: float = attrs.field(default=0.9, converter=float, validator=_unit_interval)
    beta2: float = attrs.field(default=0.999, converter=float, validator=_unit_interval)
    epsilon: float = attrs.field(default=1e-8, converter=float, validator=_positive_finite)
    first_moment: FloatArray = attrs.field(default=_EMPTY, init=False, repr=False)
    second_moment: FloatArray = attrs.field(default=_EMPTY, init=False, repr=False)
    steps: int = attrs.field(default=0, init=False, repr=False)

    def get_config(self) -> Config:
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None:
        super().bind(parameters, gradients)
        self.first_moment, self.second_moment, self.steps = np.zeros_like(parameters), np.zeros_like(parameters), 0

    def step(self) -> None:
        g, t = self.gradients, self.steps + 1
        self.first_moment = self.beta1 * self.first_moment + (1 - self.beta1) * g
        self.second_moment = self.beta2 * self.second_moment + (1 - self.beta2) * g**2
        step_size = self.learning_rate * math.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)
        self.parameters -= step_size * self.first_moment / (np.sqrt(self.second_moment) + self.epsilon)
        self.steps = t

    def state(self) -> dict[str, Any]:
        return {
            "first_moment": self.first_moment.copy(),
            "second_moment": self.second_moment.copy(),
            "steps": self.steps,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        dtype = self.parameters.dtype
        self.first_moment = np.array(state["first_moment"], dtype=dtype)
        self.second_moment = np.array(state["second_moment"], dtype=dtype)
        self.steps = int(state["steps"])
