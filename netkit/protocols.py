"""The contracts every plugin fulfils. Small on purpose: a learner can read a whole plugin in a minute.

Every plugin class also has ``get_config() -> dict`` (JSON-compatible hyperparameters, no arrays) and a
classmethod ``from_config(config) -> instance`` so that ``from_config(get_config())`` rebuilds it.

Activations and losses come in two forms (see :mod:`netkit.model.forms`), and netkit adapts either one:

- the *textbook* form returns new arrays — ``forward(z) -> a``, ``backward(z, a, grad) -> dz``;
  ``gradient(output, target) -> dL/da`` — and is the easy way to write a plugin (see
  :mod:`netkit.plugins.textbook`);
- the *fast* form, documented by the protocols below, writes into an ``out`` buffer so that a training step
  allocates nothing: at small batch sizes a NumPy step costs what its calls cost, not what its FLOPs cost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from netkit.types import Config, FloatArray


@runtime_checkable
class Configurable(Protocol):
    def get_config(self) -> Config: ...

    @classmethod
    def from_config(cls, config: Config) -> Any: ...


@runtime_checkable
class Activation(Configurable, Protocol):
    """An elementwise (or row-wise) function with its derivative beside it (the fast form shown here).

    In textbook form the methods are ``forward(z) -> a`` and ``backward(z, a, grad) -> dL/dz``, returning
    new arrays and free of the layout rules below.

    ``init`` names the weight initialisation that suits it: ``"xavier"`` (sigmoid, tanh, softmax) or
    ``"he"`` (relu family).

    The arrays are (rows, units) but not always row-major: a large layer hands its activation the transposed
    views of (units, rows) buffers while training. z, a, grad and out share one layout, so elementwise NumPy
    calls stay fast; index by axis (rows are axis 0), never by memory order.
    """

    init: ClassVar[str]

    def forward(self, z: FloatArray, out: FloatArray) -> FloatArray:
        """Write f(z) into ``out`` and return it."""
        ...

    def backward(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        """Write dL/dz into ``out`` given z, a = f(z) and grad = dL/da; ``out`` may be ``grad`` itself."""
        ...


@runtime_checkable
class Loss(Configurable, Protocol):
    """A loss averaged over the batch, as in Nielsen's network2: ``value`` is fn, ``gradient`` is delta.

    ``fused_activation`` names an output activation whose Jacobian cancels against this loss's gradient
    (softmax with cross-entropy): then ``fused_gradient`` gives dL/dz directly, which is both cheaper and
    numerically stable.

    In textbook form the gradients are ``gradient(output, target)`` and ``fused_gradient(output, target)``,
    returning new arrays (no ``out``, no ``scale``).
    """

    fused_activation: ClassVar[str | None]

    def value(self, output: FloatArray, target: FloatArray) -> float: ...

    def gradient(self, output: FloatArray, target: FloatArray, out: FloatArray, scale: float = 1.0) -> FloatArray:
        """``scale`` x dL/d(output), averaged over the batch (the scale rides on the 1/n: no extra call)."""
        ...

    def fused_gradient(self, output: FloatArray, target: FloatArray, out: FloatArray, scale: float = 1.0) -> FloatArray:
        """``scale`` x dL/dz of the output layer when its activation is ``fused_activation``."""
        ...


@runtime_checkable
class Layer(Configurable, Protocol):
    """A layer owns views into the model's flat parameter and gradient vectors.

    Lifecycle: ``build(input_size)`` returns the output size and fixes ``parameter_shapes()``; the model
    then hands the layer its views with ``bind`` and fills them with ``initialize``.
    ``forward`` keeps what ``backward`` needs; ``backward`` writes dL/dparameter into the bound gradient views
    (overwriting them) and returns dL/d(input) (or ``None`` when ``needs_input_gradient`` is false: the first layer).
    A layer may return column-major outputs; it should return dL/d(input) in the layout of the input it got,
    so that the layer below receives its gradient laid out like its own output (faster, not required).
    """

    needs_input_gradient: bool

    def build(self, input_size: int) -> int: ...

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]: ...

    def bind(self, parameters: dict[str, FloatArray], gradients: dict[str, FloatArray]) -> None: ...

    def initialize(self, rng: np.random.Generator) -> None: ...

    def forward(self, x: FloatArray, training: bool) -> FloatArray: ...

    def backward(self, grad: FloatArray, pre_activation: bool = False) -> FloatArray | None:
        """``pre_activation`` is true when ``grad`` is already dL/dz (a fused loss gradient).

        ``grad`` is the caller's scratch: a layer may overwrite it (``dense`` writes dL/dz into it).
        """
        ...

    def describe(self) -> str:
        """A short human form, e.g. ``dense 16 (sigmoid)``."""
        ...


@runtime_checkable
class Optimizer(Configurable, Protocol):
    """Decides how many samples each step sees and how parameters move.

    ``bind`` receives the model's flat parameter and gradient vectors, so an update is a handful of NumPy
    calls whatever the number of layers.

    An optimiser may also have a ``gradient_scale`` (a number, default 1): the factor the trainer folds into
    the gradients it hands to ``step``. Plain gradient descent asks for its learning rate, which makes its
    update one subtraction; whoever reads the model's gradients between steps still sees dL/dparameters.
    """

    learning_rate: float

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
