"""Predicting with a stack of dense layers (every MLP, the seed net among them) in fewer passes over memory.

The maths is each layer's, z = x W + b and a = f(z), computed as only inference may, since no backward pass
needs z afterwards (the measurements: bench/README.md, "Inference"):

- the bias is tiled to the chunk's rows: a (units,) bias broadcast over the rows runs one inner loop per
  row, which for 16 units costs four times an add of two arrays of one shape;
- an activation computed in fewer passes from -z than from z (``FastActivation.from_negated``: the
  sigmoid, 1 / (1 + e^-z)) gets -z straight from the product, through negated copies of the weight and bias;
- after a layer whose outputs are bounded (the sigmoid's lie in (0, 1)), the next layer's z is bounded too,
  by sum_i |W_ij| times that bound plus |b_j|, and its activation may skip guards such z cannot need (an
  output softmax over z within +-77 needs no shift against overflow);
- the last layer writes straight into the caller's rows.

A stack keeps its buffers between calls and reads the layers' parameters again at every
:meth:`DenseStack.refresh`, so a model trained between two calls predicts with its new ones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import numpy as np

from netkit.backend import product_for
from netkit.model.fast import FastActivation, FastLayer, activation_kernels
from netkit.model.layer import Flatten
from netkit.types import FloatArray

if TYPE_CHECKING:
    from netkit.model.network import Network

# Forward products from this many multiply-adds go to np.matmul, as in the dense layer's fast form.
MATMUL_FROM = 8_000_000

Kernel = Callable[[FloatArray, FloatArray], FloatArray]


@attrs.define
class _Step:
    """One dense layer, for chunks of at most ``len(self.z)`` rows."""

    layer: FastLayer
    product: Callable[..., FloatArray]
    z: FloatArray
    a: FloatArray
    bias: FloatArray  # tiled to the rows; negated when the activation takes -z
    weight: FloatArray  # the layer's weight, or its negation in a buffer of the step's
    activate: Kernel  # (z or -z, out) -> out
    negated: bool  # the activation takes -z
    input_bound: float | None  # the largest |x| the layer can get, when the activation has a use for it

    @classmethod
    def of(cls, layer: FastLayer, rows: int, input_bound: float | None) -> _Step:
        parts = layer.dense_parts()
        assert parts is not None  # the caller asked
        inputs, units = parts.weight.shape
        activation = parts.activation
        fast = isinstance(activation, FastActivation)
        negated = fast and activation.from_negated
        weight = np.empty_like(parts.weight) if negated else parts.weight
        activate = activation.forward_from_negated_into if negated else activation_kernels(activation)[0]
        if not (fast and activation.bounded_form):
            input_bound = None
        z = np.empty((rows, units), dtype=parts.weight.dtype)
        product = product_for(rows * inputs * units, MATMUL_FROM)
        step = cls(layer, product, z, np.empty_like(z), np.empty_like(z), weight, activate, negated, input_bound)
        step.refresh(rows)
        return step

    def refresh(self, rows: int) -> None:
        """Read the layer's parameters again, for chunks of at most ``rows`` rows."""
        parts = self.layer.dense_parts()
        assert parts is not None
        if self.negated:
            np.negative(parts.weight, self.weight)
            np.negative(parts.bias, self.bias[:rows])
            return
        self.weight = parts.weight
        self.bias[:rows] = parts.bias
        if self.input_bound is not None:
            column_sums = np.add.reduce(np.abs(parts.weight), 0)  # ufunc methods: a few µs less per call
            bound = float(np.maximum.reduce(column_sums * self.input_bound + np.abs(parts.bias), None))
            self.activate = functools.partial(parts.activation.forward_bounded_into, bound=bound)

    def forward(self, x: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """The layer's outputs for the rows ``x``, into ``out`` if given, else into a buffer of the step's."""
        rows = len(x)
        z, bias = (self.z, self.bias) if rows == len(self.z) else (self.z[:rows], self.bias[:rows])
        self.product(x, self.weight, z)
        np.add(z, bias, z)
        return self.activate(z, self.a[:rows] if out is None else out)


@attrs.frozen
class DenseStack:
    """A network made of dense layers (and flattens), for predicting chunks of at most :attr:`rows` rows.
    Each thread needs a stack of its own."""

    rows: int
    steps: tuple[_Step, ...]

    def refresh(self, rows: int) -> None:
        """Read the layers' parameters again, for chunks of at most ``rows`` rows (at most :attr:`rows`)."""
        for step in self.steps:
            step.refresh(rows)

    def forward_into(self, x: FloatArray, out: FloatArray) -> None:
        """The network's outputs for the rows ``x`` (at most :attr:`rows`), written into ``out``."""
        x = x.reshape(len(x), -1)
        for step in self.steps[:-1]:
            x = step.forward(x)
        self.steps[-1].forward(x, out)


def dense_stack(network: Network, rows: int) -> DenseStack | None:
    """``network`` as a :class:`DenseStack` for chunks of at most ``rows`` rows, or None when one of its layers
    is neither dense nor a flatten."""
    steps = []
    bound = None  # nothing is known of the network's inputs
    for layer in network.layers:
        if isinstance(layer, Flatten):
            continue  # rows are flat from the first step on
        parts = layer.dense_parts() if isinstance(layer, FastLayer) else None
        if parts is None or not isinstance(layer, FastLayer):
            return None
        steps.append(_Step.of(layer, rows, bound))
        activation = parts.activation
        bound = activation.output_bound if isinstance(activation, FastActivation) else None
    return DenseStack(rows, tuple(steps))
