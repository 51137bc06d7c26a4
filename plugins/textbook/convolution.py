"""Convolution and pooling as the formulas write them: 2-D, channels first, one sum per output.

Shapes: an input batch ``x`` is ``(n, C, H, W)`` (channels first per sample); a kernel ``K`` is
``(kh, kw, C, F)`` — its last axis indexes the filters, as a dense weight's last axis indexes its units; a
bias ``b`` is ``(F,)``. Every ``d*`` below is the true dL/d* of a loss L, given ``dy = dL/dy``.

**Convolution** (strictly, cross-correlation: the kernel is not flipped), stride ``s``::

    y[n,f,i,j] = b[f] + sum_{c,u,v} x[n,c, i*s+u-p_top, j*s+v-p_left] * K[u,v,c,f]

where x reads as 0 outside the image (zero padding). ``padding="valid"`` pads nothing:
H' = (H - kh) // s + 1. ``padding="same"`` (as Keras/TensorFlow): H' = ceil(H / s), the total padding is
max((H'-1)*s + kh - H, 0), p_top = total // 2 and the bottom gets the rest (one more when odd); the same
for the width. Each weight touches many outputs, so the backward sums run over every place it was used::

    db[f]       = sum_{n,i,j} dy[n,f,i,j]
    dK[u,v,c,f] = sum_{n,i,j} x[n,c, i*s+u-p_top, j*s+v-p_left] * dy[n,f,i,j]
    dx[n,c,h,w] = sum_{f,i,j,u,v : i*s+u-p_top = h, j*s+v-p_left = w} K[u,v,c,f] * dy[n,f,i,j]

(dx gathers, for each input pixel, every output whose window covered it, through the kernel entry that
linked them; a pixel no window covered gets 0.)

**Pooling** over ``size x size`` windows with stride ``s``, each channel on its own, no padding:
H' = (H - size) // s + 1, and a window larger than the input is an error. Windows overlap when s < size.

Max pool: y[n,c,i,j] = max_{u,v} x[n,c, i*s+u, j*s+v]. The maximum passes the gradient to the input it
came from: dx[n,c, i*s+u*, j*s+v*] += dy[n,c,i,j], where (u*, v*) is the window's argmax. On a tie the
*first* maximum in row-major window order (smallest u, then smallest v) takes it all. With overlapping
windows one input can be the argmax of several windows and collects all their gradients.

Average pool: y[n,c,i,j] = (1 / size^2) * sum_{u,v} x[n,c, i*s+u, j*s+v], so every input in a window
gets an equal share: dx[n,c, i*s+u, j*s+v] += dy[n,c,i,j] / size^2.

These functions loop over output positions and do the window's sum with one ``einsum`` each; they are slow
and meant to be read. The fast forms of the same functions are in :mod:`netkit.plugins.convolution_kernels`.
"""

from __future__ import annotations

import numpy as np

from netkit.types import FloatArray

PADDINGS = ("valid", "same")


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


def _kernel_pair(kernel_size: int | tuple[int, int]) -> tuple[int, int]:
    pair = (kernel_size, kernel_size) if isinstance(kernel_size, (int, np.integer)) else tuple(kernel_size)
    if len(pair) != 2:
        raise ValueError(f"kernel_size must be an int or a (height, width) pair. Received: {kernel_size!r}")
    for value in pair:
        _check_positive("kernel_size", value)
    return int(pair[0]), int(pair[1])


def padding_amounts(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    """The zeros added (before, after) along one spatial axis of length ``size``."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = -(-size // stride)  # ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return total // 2, total - total // 2
    raise ValueError(f"padding must be one of {', '.join(PADDINGS)}. Received: padding={padding!r}")


def conv2d_output_shape(
    input_shape: tuple[int, int, int],
    kernel_size: int | tuple[int, int],
    filters: int,
    stride: int,
    padding: str,
) -> tuple[int, int, int]:
    """(F, H', W') of a convolution of a (C, H, W) input; a ValueError names both sizes when it does not fit."""
    kh, kw = _kernel_pair(kernel_size)
    _check_positive("filters", filters)
    _check_positive("stride", stride)
    if len(input_shape) != 3:
        raise ValueError(f"conv2d needs a (channels, height, width) input. Received: input shape {input_shape}")
    _, height, width = input_shape
    (top, bottom), (left, right) = (
        padding_amounts(height, kh, stride, padding),
        padding_amounts(width, kw, stride, padding),
    )
    if kh > height + top + bottom or kw > width + left + right:
        raise ValueError(
            f"kernel {kh}x{kw} is larger than the {height}x{width} input (padding={padding!r}): "
            "use a smaller kernel or padding='same'"
        )
    return filters, (height + top + bottom - kh) // stride + 1, (width + left + right - kw) // stride + 1


def pad_input(x: FloatArray, kernel_size: tuple[int, int], stride: int, padding: str) -> FloatArray:
    """x with the zero border the padding asks for (the same array when there is none)."""
    rows = padding_amounts(x.shape[2], kernel_size[0], stride, padding)
    columns = padding_amounts(x.shape[3], kernel_size[1], stride, padding)
    if rows == columns == (0, 0):
        return x
    return np.pad(x, ((0, 0), (0, 0), rows, columns))


def conv2d_forward(x: FloatArray, kernel: FloatArray, bias: FloatArray, stride: int, padding: str) -> FloatArray:
    """y[n,f,i,j] = b[f] + sum_{c,u,v} x[n,c,i*s+u-p_top,j*s+v-p_left] K[u,v,c,f], for every output position."""
    kh, kw, _, filters = kernel.shape
    _, out_h, out_w = conv2d_output_shape(x.shape[1:], (kh, kw), filters, stride, padding)
    x_padded = pad_input(x, (kh, kw), stride, padding)
    y = np.empty((x.shape[0], filters, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            window = x_padded[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]  # (n, C, kh, kw)
            y[:, :, i, j] = bias + np.einsum("ncuv,uvcf->nf", window, kernel)
    return y


def conv2d_backward(
    x: FloatArray, kernel: FloatArray, dy: FloatArray, stride: int, padding: str
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(dx, dK, db): each output position hands its dy back to the window and the kernel that made it."""
    kh, kw, _, _ = kernel.shape
    x_padded = pad_input(x, (kh, kw), stride, padding)
    dx_padded = np.zeros_like(x_padded)
    dkernel = np.zeros_like(kernel)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            rows = slice(i * stride, i * stride + kh)
            columns = slice(j * stride, j * stride + kw)
            dkernel += np.einsum("ncuv,nf->uvcf", x_padded[:, :, rows, columns], dy[:, :, i, j])
            dx_padded[:, :, rows, columns] += np.einsum("uvcf,nf->ncuv", kernel, dy[:, :, i, j])
    top = padding_amounts(x.shape[2], kh, stride, padding)[0]
    left = padding_amounts(x.shape[3], kw, stride, padding)[0]
    dx = dx_padded[:, :, top : top + x.shape[2], left : left + x.shape[3]]
    return dx, dkernel, dy.sum(axis=(0, 2, 3))


def pool2d_output_shape(input_shape: tuple[int, int, int], size: int, stride: int) -> tuple[int, int, int]:
    """(C, H', W') of a valid pooling of a (C, H, W) input; a ValueError names both sizes when it does not fit."""
    _check_positive("size", size)
    _check_positive("stride", stride)
    if len(input_shape) != 3:
        raise ValueError(f"pooling needs a (channels, height, width) input. Received: input shape {input_shape}")
    channels, height, width = input_shape
    if size > height or size > width:
        raise ValueError(f"pooling window {size}x{size} is larger than the {height}x{width} input")
    return channels, (height - size) // stride + 1, (width - size) // stride + 1


def _windows(x: FloatArray, size: int, stride: int) -> list[tuple[int, int, FloatArray]]:
    """Each output position (i, j) with its (n, C, size*size) window, flattened in row-major order."""
    _, out_h, out_w = pool2d_output_shape(x.shape[1:], size, stride)
    return [
        (i, j, x[:, :, i * stride : i * stride + size, j * stride : j * stride + size].reshape(*x.shape[:2], -1))
        for i in range(out_h)
        for j in range(out_w)
    ]


def max_pool2d_forward(x: FloatArray, size: int, stride: int) -> FloatArray:
    """y[n,c,i,j] = max_{u,v} x[n,c,i*s+u,j*s+v]."""
    _, out_h, out_w = pool2d_output_shape(x.shape[1:], size, stride)
    y = np.empty((*x.shape[:2], out_h, out_w), dtype=x.dtype)
    for i, j, window in _windows(x, size, stride):
        y[:, :, i, j] = window.max(axis=-1)
    return y


def max_pool2d_backward(x: FloatArray, dy: FloatArray, size: int, stride: int) -> FloatArray:
    """dx: each window's dy goes to its first maximum in row-major order; the other inputs get nothing."""
    dx = np.zeros_like(x)
    n, channels = x.shape[:2]
    samples, channel = np.meshgrid(np.arange(n), np.arange(channels), indexing="ij")
    for i, j, window in _windows(x, size, stride):
        u, v = np.divmod(window.argmax(axis=-1), size)  # argmax returns the first maximum
        dx[samples, channel, i * stride + u, j * stride + v] += dy[:, :, i, j]
    return dx


def avg_pool2d_forward(x: FloatArray, size: int, stride: int) -> FloatArray:
    """y[n,c,i,j] = (1 / size^2) sum_{u,v} x[n,c,i*s+u,j*s+v]."""
    _, out_h, out_w = pool2d_output_shape(x.shape[1:], size, stride)
    y = np.empty((*x.shape[:2], out_h, out_w), dtype=x.dtype)
    for i, j, window in _windows(x, size, stride):
        y[:, :, i, j] = window.mean(axis=-1)
    return y


def avg_pool2d_backward(x_shape: tuple[int, ...], dy: FloatArray, size: int, stride: int) -> FloatArray:
    """dx: every input of a window gets an equal share, dy / size^2, summed over the windows it is in."""
    dx = np.zeros(x_shape, dtype=dy.dtype)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            rows = slice(i * stride, i * stride + size)
            columns = slice(j * stride, j * stride + size)
            dx[:, :, rows, columns] += dy[:, :, i, j, None, None] / (size * size)
    return dx
