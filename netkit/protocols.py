"""The contracts every plugin fulfils, in textbook form: plain arrays in, new arrays out, nothing about speed.

Every plugin class also has ``get_config() -> dict`` (JSON-compatible options, no arrays) and a classmethod
``from_config(config) -> instance`` so that ``from_config(get_config())`` rebuilds it. A layer subclasses
:class:`netkit.model.layer.Layer` (its contract is written there). netkit's own plugins also have fast forms
(:mod:`netkit.model.fast`), which a plugin of your own does not need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from netkit.model.layer import Layer, OnnxOperator
from netkit.types import Config, FloatArray


@runtime_checkable
class Configurable(Protocol):
    def get_config(self) -> Config: ...

    @classmethod
    def from_config(cls, config: Config) -> Any: ...


@runtime_checkable
class Activation(Configurable, Protocol):
    """An elementwise (or row-wise) function with its derivative beside it.

    ``forward(z)`` gives a = f(z); ``backward(z, a, grad)`` gives dL/dz from grad = dL/da (the chain rule:
    grad times f'(z), written with z or a, whichever reads better). Arrays are (rows, ...) of any rank.
    ``init`` names the weight initialisation that suits it: ``"xavier"`` (sigmoid, tanh, softmax) or ``"he"``
    (relu family).

    Optional: an ``onnx_operator()`` method (see :class:`OnnxExportable`) lets ``netkit export`` write models
    that use the activation to ONNX.
    """

    init: ClassVar[str]

    def forward(self, z: FloatArray) -> FloatArray: ...

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray) -> FloatArray: ...


@runtime_checkable
class OnnxExportable(Protocol):
    """A plugin that says how it runs in ONNX: ``onnx_operator()`` returns an :class:`OnnxOperator` (for an
    activation, one operator applied to z, e.g. ``OnnxOperator("Softplus")`` or
    ``OnnxOperator("LeakyRelu", {"alpha": self.slope})``), or ``None`` when it has none."""

    def onnx_operator(self) -> OnnxOperator | None: ...


@runtime_checkable
class Loss(Configurable, Protocol):
    """A loss averaged over the batch, as in Nielsen's network2: ``value`` is his fn, ``gradient`` his delta
    (dL/d(output), a new array)."""

    def value(self, output: FloatArray, target: FloatArray) -> float: ...

    def gradient(self, output: FloatArray, target: FloatArray) -> FloatArray: ...


@runtime_checkable
class Optimizer(Configurable, Protocol):
    """Decides how many samples each step sees and how parameters move.

    ``bind`` receives the model's flat parameter and gradient vectors, so an update is a handful of NumPy
    calls whatever the number of layers.

    ``step`` moves the parameters in place using the gradients, which hold the true dL/dparameters.
    """

    learning_rate: float
    # Weight constraints every optimiser takes as options; the trainer applies them (netkit.training.regularisation).
    weight_decay: float
    max_norm: float | None

    def samples_per_step(self, n_samples: int) -> int: ...

    def bind(self, parameters: FloatArray, gradients: FloatArray) -> None: ...

    def step(self) -> None: ...

    def state(self) -> dict[str, Any]:
        """Arrays and numbers needed to resume exactly (moments, step count)."""
        ...

    def load_state(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class Schedule(Configurable, Protocol):
    """The learning rate of each epoch: ``rate(base, epoch)`` for the 0-based ``epoch``, given the
    optimiser's own rate ``base``. The trainer sets it before the epoch and restores ``base`` after."""

    def rate(self, base: float, epoch: int) -> float: ...


@runtime_checkable
class DatasetLoader(Configurable, Protocol):
    """Finds (and, if allowed, downloads) a dataset and returns it as arrays; see :mod:`netkit.data`."""

    def load(self, data_dir: Path | None = None, download: bool = True) -> Any: ...


class WithoutOptions:
    """A base for plugins that take no options: an empty config, and ``from_config`` that accepts only that.

    (A plugin with options lists them as attrs fields and returns them from ``get_config``.)
    """

    def get_config(self) -> Config:
        return {}

    @classmethod
    def from_config(cls, config: Config) -> Any:
        return cls(**config)


__all__ = [
    "Activation",
    "Configurable",
    "DatasetLoader",
    "Layer",
    "Loss",
    "OnnxExportable",
    "OnnxOperator",
    "Optimizer",
    "Schedule",
    "WithoutOptions",
]
