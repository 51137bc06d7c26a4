"""The layer contract, in textbook form: what a layer plugin writes, and nothing about speed.

A layer subclasses :class:`Layer` and writes five methods on plain arrays::

    build(input_shape) -> output_shape      shapes per sample (the batch axis left out), tuples of any rank
    parameter_shapes() -> {name: shape}     after build; the default is no parameters
    initialize(rng)                         fill self.parameters[name][...] from the generator
    forward(x, training=False) -> y         x is (batch, *input_shape); keep what backward needs
    backward(dy) -> dx                      dy = dL/dy of the last forward; fill self.gradients[name][...]
                                            with the true dL/d(name) and return dL/dx

plus ``get_config``/``from_config`` (JSON-compatible options; from_config(get_config()) rebuilds it) and
``describe`` (a short human form such as ``dense 16 (sigmoid)``; ``brief``, the shortest, names a layer that
works on images inside a network's one-line ``repr``, as ``conv6@5x5``). The model gives the layer its arrays:
``self.parameters`` and ``self.gradients`` map each parameter's name to an array of its shape (a view into
the model's one flat vector, so fill them, never rebind them), through ``bind``.

What a layer can do is declared, never guessed from its attributes:

- ``weights`` names the parameters that are weights (not biases). Their last axis indexes the units (a
  dense layer's (inputs, units), a convolution's (kh, kw, channels, filters)); the other axes hold each
  unit's incoming weights. Weight decay, max-norm and the weight pictures act on these.
- ``random`` is true for a layer that draws random numbers while training (dropout): the trainer gives it a
  fresh generator, ``self.rng``, seeded from the run's, before every epoch, so a resumed run draws the same.
- ``flat_input`` is true for a layer that takes one axis of features (dense): the model puts a
  :class:`Flatten` before it when the layer below gives more axes (an image).
- ``activation`` is the activation plugin the layer applies last, if any (dense).
- ``weighted_sums`` is true for a layer with an ``activation`` that also writes ``weighted_sum(x)``: z, the
  values it computes before applying the activation, so that ``forward(x)`` gives
  ``activation.forward(weighted_sum(x))``. :meth:`netkit.Sequential.trace` shows z where a layer offers it,
  and only its output elsewhere. Such a layer may also say which inputs and weights make one unit's z
  (``unit_terms``), so that the trace can write that sum out: a dense unit's column, a convolution's window.
- ``onnx_operator()`` says how the layer runs in ONNX (:class:`OnnxOperator`: one operator, its attributes,
  its parameters as further inputs), or ``None`` when it has no operator; the exporter adds the layer's
  ``activation`` after it.
- ``conformance_config`` and ``example_input_shape``: the options and input shape :mod:`netkit.testing`
  builds a sample of the layer with, when the defaults (no options, 5 features) do not suit it.

netkit's own layers also have a fast form (a subclass that runs by default); what makes it fast is private
to it and to the trainer, and :mod:`netkit.testing` proves the two forms agree. A layer of your own needs
none of that.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.errors import ConfigError
from netkit.types import Config, FloatArray

Shape = tuple[int, ...]


@attrs.frozen
class OnnxOperator:
    """A layer as one ONNX operator: ``operator`` (``"Conv"``), its ``attributes``, and the layer's parameters
    that follow the data as the operator's inputs, in order, each ``(name, axes)``: the parameter's axes
    transposed to ``axes`` for ONNX (``None``: as the layer holds it)."""

    operator: str
    attributes: dict[str, Any] = attrs.field(factory=dict)
    parameters: tuple[tuple[str, tuple[int, ...] | None], ...] = ()


class Layer:
    """A layer in textbook form: see the module docstring for the contract."""

    weights: ClassVar[tuple[str, ...]] = ()
    random: ClassVar[bool] = False
    flat_input: ClassVar[bool] = False
    weighted_sums: ClassVar[bool] = False
    activation: Any = None
    # The conformance checks (netkit.testing) build the layer from this config on an input of this shape.
    conformance_config: ClassVar[Config] = {}
    example_input_shape: ClassVar[Shape] = (5,)
    # Set by the model (and, for ``random`` layers, by the trainer) before the layer is used.
    parameters: dict[str, FloatArray]
    gradients: dict[str, FloatArray]
    rng: np.random.Generator

    def bind(self, parameters: dict[str, FloatArray], gradients: dict[str, FloatArray]) -> None:
        """Called by the model after :meth:`build`: the arrays this layer's parameters and gradients live in."""
        self.parameters, self.gradients = parameters, gradients

    def build(self, input_shape: Shape) -> Shape:
        """The output shape for ``input_shape`` (per sample); fixes :meth:`parameter_shapes`."""
        raise NotImplementedError

    def parameter_shapes(self) -> dict[str, Shape]:
        return {}

    def initialize(self, rng: np.random.Generator) -> None:
        """Fill ``self.parameters`` with starting values drawn from ``rng``; nothing to do without parameters."""

    def forward(self, x: FloatArray, training: bool = False) -> FloatArray:
        raise NotImplementedError

    def backward(self, dy: FloatArray) -> FloatArray:
        raise NotImplementedError

    def weighted_sum(self, x: FloatArray) -> FloatArray:
        """z for the input ``x``: what the layer computes before its activation (layers with ``weighted_sums``)."""
        raise NotImplementedError(f"{self.describe()} does not offer its weighted sums")

    def unit_terms(self, x: FloatArray, unit: int) -> tuple[FloatArray, Any, Any]:
        """What makes the z of output ``unit`` (a flat index over the output shape) for one sample ``x``: the
        inputs, in order, and the indices that pick the matching weights out of the weight parameter (and of
        its gradient) and the bias out of the bias, so that z = Σ inputs · weight[index] + bias[bias_index]."""
        raise NotImplementedError(f"{self.describe()} does not write its units' sums out")

    def get_config(self) -> Config:
        return {}

    @classmethod
    def from_config(cls, config: Config) -> Any:
        return cls(**config)

    def describe(self) -> str:
        return type(self).__name__.lower()

    def brief(self) -> str:
        """This layer in a conv net's one-line ``repr`` (``conv6@5x5``, ``pool2``): one word, no activation."""
        return self.describe().replace(" ", "")

    def onnx_operator(self) -> OnnxOperator | None:
        """How this layer runs in ONNX, or ``None`` if it cannot (then a model holding it is not exported)."""
        return None


def shape_text(shape: tuple[int, ...]) -> str:
    """``784`` for flat samples, ``1x28x28`` for images."""
    return "x".join(map(str, shape))


def shape_of(value: Any, what: str) -> Shape:
    """``value`` (a whole number or a sequence of them) as a shape tuple, or a clear error."""
    items = (value,) if isinstance(value, int | np.integer | float | bool | str) else value
    try:
        shape = tuple(int(item) for item in items)
        ok = all(isinstance(item, int | np.integer) and not isinstance(item, bool) for item in items)
    except (TypeError, ValueError):
        ok, shape = False, ()
    if not ok or not shape or min(shape) < 1:
        raise ConfigError(f"{what} must be a positive whole number or a tuple of them. Received: {what}={value!r}")
    return shape


class Flatten(Layer):
    """Turns each sample into one axis of features, row by row: (channels, height, width) -> (c*h*w,).

    Put before a dense layer automatically when an image comes in. Backward gives the gradient the
    sample's shape again.
    """

    def build(self, input_shape: Shape) -> Shape:
        self.input_shape = input_shape
        return (math.prod(input_shape),)

    def forward(self, x: FloatArray, training: bool = False) -> FloatArray:
        return x.reshape(len(x), -1)

    def backward(self, dy: FloatArray) -> FloatArray:
        return dy.reshape(len(dy), *self.input_shape)

    def describe(self) -> str:
        return "flatten"

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("Flatten", {"axis": 1})
