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
    layer skips dL/dx, which nothing below it needs.
    """

    _workspaces: dict[tuple[tuple[int, ...], np.dtype[np.floating]], kernels.Conv2dWorkspace] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )
    _workspace: kernels.Conv2dWorkspace | None = attrs.field(default=None, init=False, repr=False, eq=False)
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

    def fast_forward(self, x: FloatArray, training: bool) -> FloatArray:
        self._workspace = self._workspace_for(x)
        z = self._workspace.forward(x, self.parameters["kernel"], self.parameters["bias"])
        if self._a.shape != z.shape or self._a.dtype != z.dtype:
            self._a = np.empty_like(z)
        self._z = z
        return self._activation_forward(z, self._a)

    def fast_backward(self, grad: FloatArray, dz_given: bool, input_gradient: bool) -> FloatArray | None:
        assert self._workspace is not None, "backward before forward"
        # dL/dz overwrites grad, the caller's scratch (see netkit.model.fast).
        grad_z = grad if dz_given else self._activation_backward(self._z, self._a, grad, grad)
        dx, dkernel, dbias = self._workspace.backward(self.parameters["kernel"], grad_z, input_gradient)
        self.gradients["kernel"][...] = dkernel
        self.gradients["bias"][...] = dbias
        return dx


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
