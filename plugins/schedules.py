"""Built-in learning-rate schedules: the rate of each epoch as a function of the optimiser's own rate.

The trainer asks a schedule for the rate before each epoch and keeps it for the whole epoch (as Keras'
``LearningRateScheduler`` does), so the training step itself never changes. Every schedule takes
``warmup`` (0): that many first epochs ramp linearly up to the rate, lr x 1/(w+1), 2/(w+1), ...
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from netkit.types import Config


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"expected a whole number. Received: {value!r}")
    return int(value)


def _not_negative(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be at least 0. Received: {attribute.name}={value!r}")


def _at_least_one(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1. Received: {attribute.name}={value!r}")


def _fraction(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and 0 < value <= 1):
        raise ValueError(f"{attribute.name} must be in (0, 1]. Received: {attribute.name}={value!r}")


def _unit_fraction(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise ValueError(f"{attribute.name} must be in [0, 1]. Received: {attribute.name}={value!r}")


@attrs.define
class _Schedule:
    """``rate(base, epoch)``: the rate for the 0-based ``epoch``; subclasses give ``factor`` after warm-up."""

    warmup: int = attrs.field(default=0, kw_only=True, converter=_whole, validator=_not_negative)

    def rate(self, base: float, epoch: int) -> float:
        if epoch < self.warmup:
            return base * (epoch + 1) / (self.warmup + 1)
        return base * self.factor(epoch - self.warmup)

    def factor(self, epoch: int) -> float:
        return 1.0

    def get_config(self) -> Config:
        return attrs.asdict(self)

    @classmethod
    def from_config(cls, config: Config) -> Any:
        return cls(**config)


@attrs.define
class Constant(_Schedule):
    """The optimiser's rate throughout (after the optional ``warmup`` epochs): what no schedule means."""


@attrs.define
class Step(_Schedule):
    """Multiplies the rate by ``factor`` (0.5) every ``every`` (5) epochs: lr x factor^(epoch // every)."""

    every: int = attrs.field(default=5, converter=_whole, validator=_at_least_one)
    factor_: float = attrs.field(default=0.5, converter=float, validator=_fraction, alias="factor")

    def factor(self, epoch: int) -> float:
        return float(self.factor_ ** (epoch // self.every))

    def get_config(self) -> Config:
        return {"warmup": self.warmup, "every": self.every, "factor": self.factor_}


@attrs.define
class Exponential(_Schedule):
    """Multiplies the rate by ``decay`` (0.8) each epoch: lr x decay^epoch."""

    decay: float = attrs.field(default=0.8, converter=float, validator=_fraction)

    def factor(self, epoch: int) -> float:
        return float(self.decay**epoch)


@attrs.define
class Cosine(_Schedule):
    """Half a cosine from the rate down to ``minimum`` x rate (0) over ``epochs`` (10; ``netkit train`` sets
    it to --epochs): lr x (m + (1 - m)(1 + cos(pi e / epochs)) / 2). Loshchilov and Hutter (2017), no restarts.
    """

    epochs: int = attrs.field(default=10, converter=_whole, validator=_at_least_one)
    minimum: float = attrs.field(default=0.0, converter=float, validator=_unit_fraction)

    def factor(self, epoch: int) -> float:
        progress = min(epoch, self.epochs) / self.epochs
        return self.minimum + (1 - self.minimum) * (1 + math.cos(math.pi * progress)) / 2
