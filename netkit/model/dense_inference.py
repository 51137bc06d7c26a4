"""Predicting with a stack of dense layers (every MLP, the seed net among them) in fewer passes over memory.

The maths is each layer's, z = x W + b and a = f(z), computed as only inference may, since no backward pass
needs z afterwards (the measurements: bench/README.md, "Inference"):

- the bias is tiled to the chunk's rows: a (units,) bias broadcast over the rows runs one inner loop per
  row, which for 16 units costs four times an add of two arrays of one shape;
- an activation computed in fewer passes from -z than from z (``FastActivation.from_negated``: the
  sigmoid, 1 / (1 + e^-z)) gets -z = -b - x W in the pass that would add the bias;
- after a layer whose outputs are bounded (the sigmoid's lie in (0, 1)), the next layer's z is bounded too,
  by sum_i |W_ij| times that bound plus |b_j|, and its activation may skip guards such z cannot need (an
  output softmax over z within +-77 needs no shift against overflow);
- the last layer writes straight into the caller's rows.

The arrays made from the parameters (:class:`Prepared`) are read again at every :meth:`DenseStack.refresh`,
so a model trained between two calls predicts with its new ones, and are shared by the threads of one call:
each thread has a stack of its own (its buffers, its activations' scratch) over the same prepared arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

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
class Prepared:
    """One dense layer's parameters as its step uses them, for chunks of at most ``len(self.bias)`` rows."""

    layer: FastLayer
    negated: bool  # the activation takes -z
    input_bound: float | None  # the largest |x| the layer can get, when its activation has a use for it
    weight: FloatArray  # the layer's weight
    bias: FloatArray  # tiled to the rows, negated when ``negated``
    z_bound: float = 0.0  # the largest |z| the layer can give, when ``input_bound`` is known
    # The parameters the tiled bias and the bound were made from, as bytes: comparing them skips remaking
    # either unchanged (each costs tens of µs when a prediction has just streamed its input through the caches).
    bias_made_from: bytes = b""
    tiled_rows: int = 0  # how many rows of ``bias`` hold the tiled bias
    bound_made_from: bytes = b""

    @classmethod
    def of(cls, layer: FastLayer, rows: int, input_bound: float | None) -> Prepared:
        parts = layer.dense_parts()
        assert parts is not None  # the caller asked
        activation = parts.activation
        fast = isinstance(activation, FastActivation)
        negated = fast and activation.from_negated
        if not (fast and activation.bounded_form):
            input_bound = None
        bias = np.empty((rows, len(parts.bias)), dtype=parts.bias.dtype)
        prepared = cls(layer, negated, input_bound, parts.weight, bias)
        prepared.refresh(rows)
        return prepared

    def refresh(self, rows: int) -> None:
        """Read the layer's parameters again, for chunks of at most ``rows`` rows."""
        parts = self.layer.dense_parts()
        assert parts is not None
        self.weight = parts.weight
        bias = parts.bias.tobytes()
        if rows > self.tiled_rows or bias != self.bias_made_from:
            if self.negated:
                np.negative(parts.bias, self.bias[:rows])
            else:
                np.copyto(self.bias[:rows], parts.bias)
            self.bias_made_from, self.tiled_rows = bias, rows
        if self.input_bound is not None:
            both = bias + parts.weight.tobytes()
            if both != self.bound_made_from:
                column_sums = np.add.reduce(np.abs(parts.weight), 0)
                self.z_bound = float(np.maximum.reduce(column_sums * self.input_bound + np.abs(parts.bias), None))
                self.bound_made_from = both


@attrs.define
class _Step:
    """One dense layer for one thread: its buffers and its activation, over shared prepared parameters."""

    prepared: Prepared
    product: Callable[..., FloatArray]
    z: FloatArray
    a: FloatArray
    activate: Kernel  # (z or -z, out) -> out

    @classmethod
    def of(cls, prepared: Prepared, activation: Any) -> _Step:
        rows, units = prepared.bias.shape
        inputs = prepared.weight.shape[0]
        if prepared.negated:
            activate = activation.forward_from_negated_into
        elif prepared.input_bound is not None:

            def activate(z: FloatArray, out: FloatArray) -> FloatArray:
                return activation.forward_bounded_into(z, out, prepared.z_bound)  # type: ignore[no-any-return]

        else:
            activate = activation_kernels(activation)[0]
        z = np.empty((rows, units), dtype=prepared.bias.dtype)
        return cls(prepared, product_for(rows * inputs * units, MATMUL_FROM), z, np.empty_like(z), activate)

    def forward(self, x: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """The layer's outputs for the rows ``x``, into ``out`` if given, else into a buffer of the step's."""
        rows, prepared = len(x), self.prepared
        z, bias = (self.z, prepared.bias) if rows == len(self.z) else (self.z[:rows], prepared.bias[:rows])
        self.product(x, prepared.weight, z)
        if prepared.negated:
            np.subtract(bias, z, z)  # -z = -b - x W
        else:
            np.add(z, bias, z)
        return self.activate(z, self.a[:rows] if out is None else out)


@attrs.frozen
class DenseStack:
    """A network made of dense layers (and flattens), for predicting chunks of at most :attr:`rows` rows."""

    rows: int
    steps: tuple[_Step, ...]
    widest_row: int  # the most multiply-adds one row costs in a layer's product

    def refresh(self, rows: int) -> None:
        """Read the layers' parameters again, for chunks of at most ``rows`` rows (at most :attr:`rows`)."""
        for step in self.steps:
            step.prepared.refresh(rows)

    def for_another_thread(self, twin: Network) -> DenseStack:
        """A stack over the same prepared parameters with buffers of its own and ``twin``'s activations (a
        network built like this one: an activation may keep scratch arrays, so threads cannot share one)."""
        return DenseStack(self.rows, _steps([step.prepared for step in self.steps], twin.layers), self.widest_row)

    def forward_into(self, x: FloatArray, out: FloatArray) -> None:
        """The network's outputs for the rows ``x`` (at most :attr:`rows`), written into ``out``."""
        x = x.reshape(len(x), -1)
        for step in self.steps[:-1]:
            x = step.forward(x)
        self.steps[-1].forward(x, out)


def dense_stack(network: Network, rows: int) -> DenseStack | None:
    """``network`` as a :class:`DenseStack` for chunks of at most ``rows`` rows, or None when one of its layers
    is neither dense nor a flatten, or none is dense."""
    prepared = []
    bound = None  # nothing is known of the network's inputs
    for layer in network.layers:
        if isinstance(layer, Flatten):
            continue  # rows are flat from the first step on
        if not isinstance(layer, FastLayer) or (parts := layer.dense_parts()) is None:
            return None
        prepared.append(Prepared.of(layer, rows, bound))
        activation = parts.activation
        bound = activation.output_bound if isinstance(activation, FastActivation) else None
    if not prepared:
        return None  # flattens alone: their own forward reshapes the rows
    widest_row = max(one.weight.size for one in prepared)
    return DenseStack(rows, _steps(prepared, network.layers), widest_row)


def _steps(prepared: Sequence[Prepared], layers: Sequence[Any]) -> tuple[_Step, ...]:
    """One step per prepared layer, with the activations of ``layers`` (flattens left out)."""
    dense = [layer for layer in layers if not isinstance(layer, Flatten)]
    return tuple(_Step.of(one, layer.dense_parts().activation) for one, layer in zip(prepared, dense, strict=True))
