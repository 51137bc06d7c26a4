"""Fast convolution and pooling: the same functions as :mod:`netkit.plugins.textbook.convolution`, vectorised.

Read the textbook module first for the maths; this one only changes how it is computed.

**Convolution as one matrix product (im2col).** A strided window view of the padded input lists, for every
output position (n, i, j), the kh*kw*C inputs its sum reads. Copied once into a *column matrix* of shape
(kh*kw*C, H'*W'*n) — rows ordered (u, v, c) exactly like the kernel reshaped to (kh*kw*C, F), columns
ordered (i, j, n) — the forward pass is one product ``K^T @ columns``, and the backward pass is two:

    dK      = columns @ dy^T         (kh*kw*C, F): every use of a weight, summed
    dcolumns = K @ dy                (kh*kw*C, H'*W'*n): each window entry's share of dx

The column matrix keeps the batch inside its long axis, so each product is a single BLAS call. Inside the
workspace every array puts the batch last — the padded input is (C, H, W, n), y and dy are (F, H', W', n) —
so that one window row of all the samples is a single contiguous run, both in the copy that fills the
column matrix and in col2im's additions; outside, arrays are (n, C, H, W) as everywhere in netkit, and the
transposing copies at the edges are small next to the column matrix.

**col2im without ``np.add.at``.** dx gathers dcolumns back onto the padded input. Positions read by the same
kernel offset (u, v) never collide (they are ``stride`` apart), so dx is kh*kw strided additions, one per
offset, each a plain vectorised ``+=``. ``np.add.at`` would handle collisions we do not have, element by
element.

**Pooling** walks the size*size offsets of the window the same way: each offset is one strided slice of the
input holding that offset for every window at once, so the max is size*size ``np.maximum`` calls, the
average size*size additions, and the max's backward finds each window's first maximum by testing the
offsets in row-major order. This also serves windows that overlap or do not tile the input. (Reducing a
``(..., H', size, W', size)`` reshape over its two small axes computes the same thing, but NumPy reduces
short strided axes element by element, which is far slower.)

Every function keeps the input's dtype (float32 stays float32). :class:`Conv2dWorkspace` is the same
convolution for one input shape with its buffers kept from batch to batch, and the column matrix of the
last forward pass kept for the backward pass, which is what a training loop wants.

**Bounded memory.** The column matrix holds kh*kw*C values per output pixel, far more than the input: a
batch of 10,000 MNIST digits under a 5x5 kernel would need 784 MB. :func:`rows_per_slice` says how many
samples keep it within :data:`COLUMN_BYTES`; the layer (``netkit.plugins.spatial.Conv2D``) runs larger
batches slice by slice. Each output depends on its own sample's columns only, so the slices give exactly
the same y and dx; dK and db are summed over the slices (the same sums, added in another order). A training
step keeps the forward pass's columns for the backward pass, so it slices only past the large
:data:`COLUMN_BYTES`; inference slices past :data:`FORWARD_COLUMN_BYTES`, since slicing a forward pass
costs nothing but a loop.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from netkit.types import FloatArray

from .textbook.convolution import conv2d_output_shape, padding_amounts, pool2d_output_shape

# The most one column matrix (and, in the backward pass, its gradient) may hold: larger batches are sliced.
COLUMN_BYTES = 64 * 2**20
# The same outside training, where no backward pass reuses the columns.
FORWARD_COLUMN_BYTES = 8 * 2**20

__all__ = [
    "COLUMN_BYTES",
    "FORWARD_COLUMN_BYTES",
    "Conv2dWorkspace",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_output_shape",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "pool2d_output_shape",
    "rows_per_slice",
]


def rows_per_slice(
    sample_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    stride: int,
    padding: str,
    dtype: npt.DTypeLike,
    budget: int | None = None,
) -> int:
    """How many samples of ``sample_shape`` (C, H, W) a column matrix of at most ``budget`` bytes (default
    :data:`COLUMN_BYTES`) holds (at least one)."""
    channels, height, width = sample_shape
    kh, kw, _, filters = kernel_shape
    _, out_h, out_w = conv2d_output_shape((channels, height, width), (kh, kw), filters, stride, padding)
    per_sample = kh * kw * channels * out_h * out_w * np.dtype(dtype).itemsize
    return max(1, (COLUMN_BYTES if budget is None else budget) // per_sample)


class Conv2dWorkspace:
    """A convolution of fixed shapes with reusable buffers; ``backward`` uses the last ``forward``'s columns.

    ``input_shape`` is the batch's ``(n, C, H, W)`` and ``kernel_shape`` is ``(kh, kw, C, F)``. The arrays
    returned are fresh (they never alias a buffer of the workspace).
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int, int],
        kernel_shape: tuple[int, int, int, int],
        stride: int,
        padding: str,
        dtype: npt.DTypeLike,
    ) -> None:
        n, channels, height, width = input_shape
        kh, kw, kernel_channels, filters = kernel_shape
        if kernel_channels != channels:
            raise ValueError(
                f"kernel {kernel_shape} reads {kernel_channels} channels but the input {input_shape} has {channels}"
            )
        _, out_h, out_w = conv2d_output_shape((channels, height, width), (kh, kw), filters, stride, padding)
        self.input_shape, self.kernel_shape, self.stride = input_shape, kernel_shape, stride
        self.output_shape = (n, filters, out_h, out_w)
        self.dtype = np.dtype(dtype)
        self.row_padding = padding_amounts(height, kh, stride, padding)
        self.column_padding = padding_amounts(width, kw, stride, padding)
        # Inside, arrays keep the batch as their last axis: (C, H, W, n). Then a window row of every sample is one
        # contiguous run (W' * n values) in the column copy and in the col2im additions, not W' values.
        padded_shape = (channels, height + sum(self.row_padding), width + sum(self.column_padding), n)
        self.padded = np.zeros(padded_shape, self.dtype)  # the border stays zero; forward fills the interior
        self.padded_gradient: FloatArray | None = None  # made by the first backward pass: inference needs none
        self.columns = np.empty((kh, kw, channels, out_h, out_w, n), self.dtype)
        self.product = np.empty((filters, out_h, out_w, n), self.dtype)  # y or dy, filters first

    def _interior(self, array: FloatArray) -> FloatArray:
        """The unpadded part of a (C, H, W, n) buffer, as (n, C, H, W)."""
        (top, _), (left, _) = self.row_padding, self.column_padding
        _, _, height, width = self.input_shape
        interior: FloatArray = array[:, top : top + height, left : left + width, :].transpose(3, 0, 1, 2)
        return interior

    def _column_matrix(self) -> FloatArray:
        kh, kw, channels, _ = self.kernel_shape
        return self.columns.reshape(kh * kw * channels, -1)

    def fill_columns(self, x: FloatArray) -> None:
        """Copy every output position's window of x into the column matrix (im2col)."""
        if x.shape != self.input_shape:
            raise ValueError(f"this convolution was set up for inputs {self.input_shape}, received {x.shape}")
        self._interior(self.padded)[...] = x
        kh, kw, _, _ = self.kernel_shape
        _, _, out_h, out_w = self.output_shape
        last = (out_h - 1) * self.stride + 1, (out_w - 1) * self.stride + 1
        # (C, i, j, n, u, v) -> strided to the output grid -> (u, v, C, i, j, n), the column matrix's order
        windows = sliding_window_view(self.padded, (kh, kw), axis=(1, 2))[
            :, : last[0] : self.stride, : last[1] : self.stride
        ]
        np.copyto(self.columns, windows.transpose(4, 5, 0, 1, 2, 3))

    def forward(self, x: FloatArray, kernel: FloatArray, bias: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """y = conv(x, K) + b as one matrix product over the column matrix; keeps the columns for backward.
        y is written into ``out`` when given (a C-contiguous array of the output's shape), else a new array."""
        self.fill_columns(x)
        filters = self.kernel_shape[3]
        np.matmul(kernel.reshape(-1, filters).T, self._column_matrix(), out=self.product.reshape(filters, -1))
        y = np.empty(self.output_shape, self.dtype) if out is None else out
        np.add(self.product.transpose(3, 0, 1, 2), bias[:, None, None], out=y)
        return y

    def backward(
        self, kernel: FloatArray, dy: FloatArray, input_gradient: bool = True
    ) -> tuple[FloatArray | None, FloatArray, FloatArray]:
        """(dx or None, dK, db) for the x of the last ``forward``; dx is skipped when not asked for."""
        kh, kw, _, filters = self.kernel_shape
        self.product[...] = dy.transpose(1, 2, 3, 0)
        dy_matrix = self.product.reshape(filters, -1)
        dbias = dy_matrix.sum(axis=1)
        dkernel = np.matmul(self._column_matrix(), dy_matrix.T).reshape(self.kernel_shape)
        if not input_gradient:
            return None, dkernel, dbias
        dcolumns = np.matmul(kernel.reshape(-1, filters), dy_matrix).reshape(self.columns.shape)
        if self.padded_gradient is None:
            self.padded_gradient = np.zeros_like(self.padded)
        gradient = self.padded_gradient
        gradient[...] = 0
        _, _, out_h, out_w = self.output_shape
        for u in range(kh):
            for v in range(kw):
                rows = slice(u, u + (out_h - 1) * self.stride + 1, self.stride)
                columns = slice(v, v + (out_w - 1) * self.stride + 1, self.stride)
                gradient[:, rows, columns] += dcolumns[u, v]
        dx = np.empty(self.input_shape, self.dtype)
        dx[...] = self._interior(gradient)
        return dx, dkernel, dbias


def conv2d_forward(x: FloatArray, kernel: FloatArray, bias: FloatArray, stride: int, padding: str) -> FloatArray:
    """y[n,f,i,j] = b[f] + sum_{c,u,v} x[n,c,i*s+u-p_top,j*s+v-p_left] K[u,v,c,f], as one matrix product."""
    workspace = Conv2dWorkspace(x.shape, kernel.shape, stride, padding, x.dtype)
    return workspace.forward(x, kernel.astype(x.dtype, copy=False), bias.astype(x.dtype, copy=False))


def conv2d_backward(
    x: FloatArray, kernel: FloatArray, dy: FloatArray, stride: int, padding: str
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(dx, dK, db), rebuilding the column matrix of x (a workspace keeps it from the forward pass instead)."""
    workspace = Conv2dWorkspace(x.shape, kernel.shape, stride, padding, x.dtype)
    workspace.fill_columns(x)
    dx, dkernel, dbias = workspace.backward(kernel.astype(x.dtype, copy=False), dy.astype(x.dtype, copy=False))
    assert dx is not None
    return dx, dkernel, dbias


def _offset_slices(size: int, stride: int, out_h: int, out_w: int) -> list[tuple[slice, slice]]:
    """For each window offset (u, v) in row-major order, the slices picking it from every window at once."""
    return [
        (slice(u, u + (out_h - 1) * stride + 1, stride), slice(v, v + (out_w - 1) * stride + 1, stride))
        for u in range(size)
        for v in range(size)
    ]


def _pool_grid(x_shape: tuple[int, ...], size: int, stride: int) -> tuple[tuple[int, int, int, int], int, int]:
    _, out_h, out_w = pool2d_output_shape((x_shape[1], x_shape[2], x_shape[3]), size, stride)
    return (x_shape[0], x_shape[1], out_h, out_w), out_h, out_w


def max_pool2d_forward(x: FloatArray, size: int, stride: int) -> FloatArray:
    """y[n,c,i,j] = max_{u,v} x[n,c,i*s+u,j*s+v], one ``np.maximum`` per window offset."""
    _, out_h, out_w = _pool_grid(x.shape, size, stride)
    offsets = _offset_slices(size, stride, out_h, out_w)
    y: FloatArray = x[:, :, offsets[0][0], offsets[0][1]].copy()
    for rows, columns in offsets[1:]:
        np.maximum(y, x[:, :, rows, columns], out=y)
    return y


def max_pool2d_backward(
    x: FloatArray, dy: FloatArray, size: int, stride: int, y: FloatArray | None = None
) -> FloatArray:
    """dx: each window's dy to its first maximum in row-major order. Pass the forward's ``y`` to save its cost."""
    grid, out_h, out_w = _pool_grid(x.shape, size, stride)
    if y is None:
        y = max_pool2d_forward(x, size, stride)
    dx = np.zeros_like(x)
    unclaimed = np.ones(grid, dtype=bool)  # windows whose maximum no earlier offset has taken
    hit = np.empty(grid, dtype=bool)
    overlapping = stride < size
    for rows, columns in _offset_slices(size, stride, out_h, out_w):
        np.equal(x[:, :, rows, columns], y, out=hit)
        hit &= unclaimed
        unclaimed ^= hit
        if overlapping:  # an input may be the maximum of several windows: add up their gradients
            dx[:, :, rows, columns] += dy * hit
        else:
            np.multiply(dy, hit, out=dx[:, :, rows, columns])
    return dx


def avg_pool2d_forward(x: FloatArray, size: int, stride: int) -> FloatArray:
    """y[n,c,i,j] = (1 / size^2) sum_{u,v} x[n,c,i*s+u,j*s+v], one addition per window offset."""
    _, out_h, out_w = _pool_grid(x.shape, size, stride)
    offsets = _offset_slices(size, stride, out_h, out_w)
    y: FloatArray = x[:, :, offsets[0][0], offsets[0][1]].copy()
    for rows, columns in offsets[1:]:
        y += x[:, :, rows, columns]
    y *= 1.0 / (size * size)
    return y


def avg_pool2d_backward(x_shape: tuple[int, ...], dy: FloatArray, size: int, stride: int) -> FloatArray:
    """dx: every input of a window gets dy / size^2, summed over the windows it is in."""
    _, out_h, out_w = _pool_grid(x_shape, size, stride)
    share = dy * (1.0 / (size * size))
    dx = np.zeros(x_shape, dtype=dy.dtype)
    for rows, columns in _offset_slices(size, stride, out_h, out_w):
        dx[:, :, rows, columns] += share
    return dx
