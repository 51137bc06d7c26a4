"""The built-in spatial layers' fast forms: ``conv2d``, ``maxpool2d`` and ``avgpool2d``.

The maths of :mod:`netkit.plugins.textbook.spatial` (read that first; its options, checks and docs are these
layers' too), computed by :mod:`netkit.plugins.convolution_kernels`: the convolution as one matrix product
over an im2col column matrix kept in a workspace per batch shape, pooling by window offsets.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np

from netkit.model.fast import FastLayer, activation_kernels
from netkit.model.layer import Shape
from netkit.types import FloatArray

from . import convolution_kernels as kernels
from .textbook import spatial as textbook

_NO_BUFFER = np.empty((0, 0, 0, 0), dtype=np.float32)
# Workspaces kept per layer, by input shape: training batches and the (differently sized) inference chunks
# each keep theirs instead of reallocating their column matrices at every switch.
WORKSPACES_KEPT = 2


@attrs.define(on_setattr=attrs.setters.NO_OP)  # the hot path assigns buffers: no validators to run
class Conv2D(textbook.Conv2D, FastLayer):
    """A 2-D convolution: ``filters`` kernels of ``kernel`` x ``kernel`` slide over the image (``stride``
    1), each giving one output channel, then the activation (relu). Options: ``filters``, ``kernel``,
    ``stride``, ``padding`` (``valid``: no border; ``same``: zeros around so that the output is the input's
    size divided by the stride), ``activation``, ``init``.

    ``init`` defaults to what the activation prefers (He normal for the ReLU family, Xavier/Glorot uniform
    otherwise) over each kernel's kh*kw*channels inputs. The bias starts at zero. The activation defaults to
    relu, not the dense layer's sigmoid: convolutional nets are trained with ReLU (and LeNet-5 is, here).

    Fast because the window sums are one matrix product over a column matrix (im2col) whose buffers, like
    z and a, are kept from batch to batch, the backward pass reuses the forward's columns, and the first
    layer skips dL/dx, which nothing below it needs. A batch whose column matrix would outgrow
    ``convolution_kernels.COLUMN_BYTES`` (``FORWARD_COLUMN_BYTES`` outside training) runs in slices of
    samples, its columns rebuilt slice by slice in the backward pass, so memory stays bounded whatever the
    batch size.
    """

    _workspaces: dict[tuple[tuple[int, ...], np.dtype[np.floating]], kernels.Conv2dWorkspace] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )
    _workspace: kernels.Conv2dWorkspace | None = attrs.field(default=None, init=False, repr=False, eq=False)
    _sliced_input: FloatArray | None = attrs.field(default=None, init=False, repr=False, eq=False)
    _z: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _a: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _activation_forward: Callable[[FloatArray, FloatArray], FloatArray] = attrs.field(
        default=None, init=False, repr=False, eq=False
    )
    _activation_backward: Callable[[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray] = attrs.field(
        default=None, init=False, repr=False, eq=False
    )

    def build(self, input_shape: Shape) -> Shape:
        shape = super().build(input_shape)
        self._activation_forward, self._activation_backward = activation_kernels(self.activation)
        self._workspaces = {}  # new shapes: the old columns no longer fit
        return shape

    def _workspace_for(self, x: FloatArray) -> kernels.Conv2dWorkspace:
        key = (x.shape, x.dtype)
        workspace = self._workspaces.get(key)
        if workspace is None:
            if len(self._workspaces) >= WORKSPACES_KEPT:
                self._workspaces.pop(next(iter(self._workspaces)))
            kernel_shape = self.parameters["kernel"].shape
            workspace = kernels.Conv2dWorkspace(x.shape, kernel_shape, self.stride, self.padding, x.dtype)
            self._workspaces[key] = workspace
        return workspace

    def _slice_rows(self, x: FloatArray, budget: int) -> int:
        """Samples per slice: the whole batch when its column matrix fits ``budget``, else equal slices."""
        kernel_shape = self.parameters["kernel"].shape
        most = kernels.rows_per_slice(x.shape[1:], kernel_shape, self.stride, self.padding, x.dtype, budget)
        count = -(-len(x) // most)
        return -(-len(x) // count)

    def fast_forward(self, x: FloatArray, training: bool) -> FloatArray:
        size = self._slice_rows(x, kernels.COLUMN_BYTES if training else kernels.FORWARD_COLUMN_BYTES)
        kernel, bias = self.parameters["kernel"], self.parameters["bias"]
        if size == len(x):
            self._workspace, self._sliced_input = self._workspace_for(x), None
            z = self._workspace.forward(x, kernel, bias)
        else:  # the columns of one slice at a time; backward builds them again from x
            self._workspace, self._sliced_input = None, x
            sample = kernels.conv2d_output_shape(x.shape[1:], self.kernel, self.filters, self.stride, self.padding)
            z = np.empty((len(x), *sample), x.dtype)
            for start in range(0, len(x), size):
                part, rows = _slice_of(x, start, size)
                workspace = self._workspace_for(part)
                if rows == size:
                    workspace.forward(part, kernel, bias, out=z[start : start + size])
                else:
                    z[start:] = workspace.forward(part, kernel, bias)[:rows]
        if self._a.shape != z.shape or self._a.dtype != z.dtype:
            self._a = np.empty_like(z)
        self._z = z
        return self._activation_forward(z, self._a)

    def fast_backward(self, grad: FloatArray, dz_given: bool, input_gradient: bool) -> FloatArray | None:
        # dL/dz overwrites grad, the caller's scratch (see netkit.model.fast).
        grad_z = grad if dz_given else self._activation_backward(self._z, self._a, grad, grad)
        kernel = self.parameters["kernel"]
        if self._sliced_input is None:
            assert self._workspace is not None, "backward before forward"
            dx, dkernel, dbias = self._workspace.backward(kernel, grad_z, input_gradient)
            self.gradients["kernel"][...] = dkernel
            self.gradients["bias"][...] = dbias
            return dx
        x = self._sliced_input
        size = self._slice_rows(x, kernels.COLUMN_BYTES)
        dx = np.empty_like(x) if input_gradient else None
        self.gradients["kernel"][...] = 0
        self.gradients["bias"][...] = 0
        for start in range(0, len(x), size):
            part, rows = _slice_of(x, start, size)
            workspace = self._workspace_for(part)
            workspace.fill_columns(part)
            dx_part, dkernel, dbias = workspace.backward(kernel, _slice_of(grad_z, start, size)[0], input_gradient)
            self.gradients["kernel"] += dkernel
            self.gradients["bias"] += dbias
            if dx is not None and dx_part is not None:
                dx[start : start + rows] = dx_part[:rows]
        return dx


def _slice_of(batch: FloatArray, start: int, size: int) -> tuple[FloatArray, int]:
    """``size`` samples from ``start`` and how many are real: the last slice is padded with zero samples, so
    that every slice has one shape (one workspace) and adds exactly nothing to the kernel's gradient."""
    part = batch[start : start + size]
    if len(part) == size:
        return part, size
    padded = np.zeros((size, *batch.shape[1:]), batch.dtype)
    padded[: len(part)] = part
    return padded, len(part)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class MaxPool2D(textbook.MaxPool2D, FastLayer):
    """Max pooling: each ``size`` x ``size`` window (2) of each channel gives its largest value; windows
    move by ``stride`` (default ``size``). Options: ``size``, ``stride``. The gradient goes back to the
    input that was the maximum (on a tie, the first in reading order).

    Fast because each of the size*size window offsets is one strided slice of every window at once, and the
    backward pass finds the maxima from the forward's output instead of searching again.
    """

    _input: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)
    _output: FloatArray = attrs.field(default=_NO_BUFFER, init=False, repr=False, eq=False)

    def fast_forward(self, x: FloatArray, training: bool) -> FloatArray:
        self._input = x
        self._output = kernels.max_pool2d_forward(x, self.size, self.step)
        return self._output

    def fast_backward(self, grad: FloatArray, dz_given: bool, input_gradient: bool) -> FloatArray | None:
        if not input_gradient:
            return None
        return kernels.max_pool2d_backward(self._input, grad, self.size, self.step, self._output)


@attrs.define(on_setattr=attrs.setters.NO_OP)
class AvgPool2D(textbook.AvgPool2D, FastLayer):
    """Average pooling: each ``size`` x ``size`` window (2) of each channel gives its mean; windows move by
    ``stride`` (default ``size``). Options: ``size``, ``stride``. Every input of a window gets an equal
    share of its gradient.

    Fast because each of the size*size window offsets is one strided slice of every window at once.
    """

    _input_shape: tuple[int, ...] = attrs.field(default=(), init=False, repr=False, eq=False)

    def fast_forward(self, x: FloatArray, training: bool) -> FloatArray:
        self._input_shape = x.shape
        return kernels.avg_pool2d_forward(x, self.size, self.step)

    def fast_backward(self, grad: FloatArray, dz_given: bool, input_gradient: bool) -> FloatArray | None:
        if not input_gradient:
            return None
        return kernels.avg_pool2d_backward(self._input_shape, grad, self.size, self.step)
