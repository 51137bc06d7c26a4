"""The built-in ``dense`` layer's fast form: the maths of :class:`netkit.plugins.textbook.layers.Dense` (read that
first; its options, checks and docs are this layer's too), computed into buffers kept between steps."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np

from netkit.backend import dot, matmul, product_for
from netkit.model.fast import DenseParts, FastLayer, activation_kernels
from netkit.model.layer import Shape
from netkit.types import FloatArray

from .textbook import layers as textbook

_NO_BUFFER = np.empty((0, 0), dtype=np.float32)
# When a training layer keeps its buffers transposed (see ``Dense._allocate_forward``): from this many
# multiply-adds per forward product, up to this many rows (the measurements: bench/README.md, "Hot-path choices").
TRANSPOSE_FROM = 8_000_000
TRANSPOSE_MAX_ROWS = 256
# Layers at least this wide keep their weight as (units, inputs) rows in memory, Nielsen's w[j][k]
# orientation (the view still has the usual (inputs, units) shape). Then z^T = W^T x^T reads W^T row by row
# and the weight gradient is written row by row as grad_z^T x, so BLAS reads and writes memory in order.
# Narrow layers gain nothing (bench/README.md, "Hot-path choices").
TRANSPOSED_WEIGHT_FROM_UNITS = 512


@attrs.define(on_setattr=attrs.setters.NO_OP)  # the hot path assigns buffers: no validators to run
class Dense(textbook.Dense, FastLayer):
    """A fully connected layer: every input feeds every unit. Options: ``units``, ``activation`` (sigmoid),
    ``init``.

    ``init`` defaults to what the activation prefers: Xavier/Glorot uniform for sigmoid, tanh and softmax,
    He normal for the ReLU family. The bias starts at zero.

    Fast because a training step allocates nothing (z, a and dL/dx live in buffers kept per batch size, and
    dL/dz is written over the incoming gradient), each product goes to the faster of ``np.dot`` and
    ``np.matmul`` for its size, wide layers keep their buffers and weights transposed so that BLAS reads
    memory in order, and the activation's methods are bound once.
    """

    # What forward keeps for backward, and per-batch-size buffers.
    _input: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _z: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _a: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _grad_input: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _ones: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _backward_buffers_for: FloatArray | None = attrs.field(default=None, init=False, repr=False, eq=False)
    _training: bool = attrs.field(default=False, init=False, repr=False, eq=False)
    _weight_transposed: bool = attrs.field(default=False, init=False, repr=False, eq=False)
    _weight: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _forward_product: Callable[..., FloatArray] = attrs.field(default=dot, init=False, repr=False, eq=False)
    _weight_product: Callable[..., FloatArray] = attrs.field(default=dot, init=False, repr=False, eq=False)
    _input_product: Callable[..., FloatArray] = attrs.field(default=dot, init=False, repr=False, eq=False)
    _activation_forward: Callable[[FloatArray, FloatArray], FloatArray] = attrs.field(
        default=None, init=False, repr=False, eq=False
    )
    _activation_backward: Callable[[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray] = attrs.field(
        default=None, init=False, repr=False, eq=False
    )

    def build(self, input_shape: Shape) -> Shape:
        shape = super().build(input_shape)
        # The activation's methods, bound once for the hot path (its textbook ones adapted if it has no fast form).
        self._activation_forward, self._activation_backward = activation_kernels(self.activation)
        return shape

    def transposed_parameters(self) -> frozenset[str]:
        return frozenset({"weight"}) if self.units >= TRANSPOSED_WEIGHT_FROM_UNITS else frozenset()

    def dense_parts(self) -> DenseParts | None:
        if type(self) is not Dense:  # a subclass may compute something else: it says so itself
            return None
        return DenseParts(self.parameters["weight"], self.parameters["bias"], self.activation)

    def bind(self, parameters: dict[str, FloatArray], gradients: dict[str, FloatArray]) -> None:
        super().bind(parameters, gradients)
        self._weight = parameters["weight"]
        # Whatever the model did with the request, the products follow the layout it gave.
        self._weight_transposed = _is_transposed(self._weight)
        self._z = _NO_BUFFER  # new arrays: allocate afresh

    def _allocate_forward(self, rows: int, training: bool) -> None:
        dtype = self._weight.dtype
        multiply_adds = rows * self.inputs * self.units
        # Forward, matmul gains only on large products (bench/README.md).
        self._forward_product = product_for(multiply_adds, matmul_from=8_000_000)
        # A wide layer training on mini-batches keeps z and a as (units, rows) arrays and works on their
        # transposed views: the layer above then computes this layer's gradient as W @ grad_z^T, a product
        # without a transposed operand, which OpenBLAS runs faster than grad_z @ W^T. Inference keeps rows
        # first: x @ W is faster there (figures for both in bench/README.md).
        self._training = training
        large = multiply_adds >= TRANSPOSE_FROM or self._weight_transposed
        if training and rows <= TRANSPOSE_MAX_ROWS and large:
            self._z = np.empty((self.units, rows), dtype=dtype).T
            self._a = np.empty((self.units, rows), dtype=dtype).T
            self._forward_product = _into_transposed
        else:
            self._z = np.empty((rows, self.units), dtype=dtype)
            self._a = np.empty((rows, self.units), dtype=dtype)

    def _allocate_backward(self, rows: int) -> None:
        # Separate from forward's buffers so that inference on a large batch never allocates these.
        dtype = self._weight.dtype
        # x.T @ grad_z is the largest product of a step: matmul passes the transposed operand to BLAS as is.
        self._weight_product = self._input_product = product_for(self.inputs * self.units)
        if self._weight_transposed:  # BLAS writes row-major arrays: the gradient goes in as grad_z^T x
            self._weight_product = _into_transposed
        # dL/dx goes back in the layout of x, so that the layer below finds its gradient like its output.
        if _is_transposed(self._input):
            self._grad_input = np.empty((self.inputs, rows), dtype=dtype).T
            self._input_product = _into_transposed
        else:
            self._grad_input = np.empty((rows, self.inputs), dtype=dtype)
        self._ones = np.ones(rows, dtype=dtype)
        self._backward_buffers_for = self._a

    def fast_forward(self, x: FloatArray, training: bool) -> FloatArray:
        if len(x) != len(self._z) or training != self._training:
            self._allocate_forward(len(x), training)
        self._input = x
        z = self._forward_product(x, self._weight, self._z)
        np.add(z, self.parameters["bias"], z)
        return self._activation_forward(z, self._a)

    def fast_backward(self, grad: FloatArray, dz_given: bool, input_gradient: bool) -> FloatArray | None:
        if self._backward_buffers_for is not self._a:  # new batch size or layout since the last backward
            self._allocate_backward(grad.shape[0])
        # dL/dz overwrites grad, the caller's scratch: one buffer fewer for the caches to hold.
        grad_z = grad if dz_given else self._activation_backward(self._z, self._a, grad, grad)
        self._weight_product(self._input.T, grad_z, self.gradients["weight"])
        dot(self._ones, grad_z, self.gradients["bias"])  # the column sums, as one BLAS call
        if not input_gradient:
            return None
        return self._input_product(grad_z, self._weight.T, self._grad_input)


def _into_transposed(a: FloatArray, b: FloatArray, out: FloatArray) -> FloatArray:
    """a @ b into the column-major ``out``, computed as out^T = b^T a^T: BLAS writes row-major arrays only."""
    matmul(b.T, a.T, out.T)
    return out


def _is_transposed(array: FloatArray) -> bool:
    """Whether ``array`` is a column-major 2-D array (the transposed view of a row-major one)."""
    return bool(array.flags.f_contiguous and not array.flags.c_contiguous)
