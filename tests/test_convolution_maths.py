"""The convolution and pooling maths: the fast forms equal the textbook forms, which equal finite differences."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from netkit.plugins import convolution_kernels as fast
from netkit.plugins.textbook import convolution as textbook
from netkit.testing import numerical_gradient
from netkit.types import FloatArray

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}

CONV_CASES = list(
    itertools.product(
        (1, 3, 5),  # kernel
        (1, 2),  # stride
        ("valid", "same"),
        (1, 3),  # input channels
        (1, 7),  # batch
        (np.float32, np.float64),
    )
)


def assert_close(fast_value: FloatArray, textbook_value: FloatArray, dtype: type[np.floating]) -> None:
    assert fast_value.dtype == dtype
    assert fast_value.shape == textbook_value.shape
    scale = max(float(np.abs(textbook_value).max()), 1.0)
    np.testing.assert_allclose(fast_value, textbook_value, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * scale)


@pytest.mark.parametrize(("kernel_size", "stride", "padding", "channels", "batch", "dtype"), CONV_CASES)
def test_fast_convolution_equals_textbook(kernel_size, stride, padding, channels, batch, dtype):
    rng = np.random.default_rng(kernel_size * 100 + stride * 10 + channels)
    x = rng.standard_normal((batch, channels, 7, 9)).astype(dtype)
    kernel = rng.standard_normal((kernel_size, kernel_size, channels, 4)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    y = textbook.conv2d_forward(x, kernel, bias, stride, padding)
    assert y.shape[1:] == textbook.conv2d_output_shape((channels, 7, 9), kernel_size, 4, stride, padding)
    assert y.dtype == dtype
    assert_close(fast.conv2d_forward(x, kernel, bias, stride, padding), y, dtype)
    dy = rng.standard_normal(y.shape).astype(dtype)
    for fast_gradient, textbook_gradient in zip(
        fast.conv2d_backward(x, kernel, dy, stride, padding),
        textbook.conv2d_backward(x, kernel, dy, stride, padding),
        strict=True,
    ):
        assert_close(fast_gradient, textbook_gradient, dtype)


@pytest.mark.parametrize(
    ("size", "stride"),
    [(2, 2), (3, 3), (2, 1), (3, 1), (3, 2)],  # tiling (with a remainder on 7x9), and overlapping windows
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_pooling_equals_textbook_with_ties(size, stride, dtype):
    rng = np.random.default_rng(size * 10 + stride)
    x = rng.integers(0, 3, (7, 3, 7, 9)).astype(dtype)  # three values: most windows hold a tie
    dy = rng.standard_normal((7, 3, *textbook.pool2d_output_shape((3, 7, 9), size, stride)[1:])).astype(dtype)
    pairs = [
        (fast.max_pool2d_forward(x, size, stride), textbook.max_pool2d_forward(x, size, stride)),
        (fast.max_pool2d_backward(x, dy, size, stride), textbook.max_pool2d_backward(x, dy, size, stride)),
        (fast.avg_pool2d_forward(x, size, stride), textbook.avg_pool2d_forward(x, size, stride)),
        (fast.avg_pool2d_backward(x.shape, dy, size, stride), textbook.avg_pool2d_backward(x.shape, dy, size, stride)),
    ]
    for fast_value, textbook_value in pairs:
        assert_close(fast_value, textbook_value, dtype)


def test_max_pool_gives_a_tied_window_gradient_to_its_first_maximum_in_row_major_order():
    x = np.array([[[[1.0, 5.0, 5.0], [5.0, 0.0, 5.0], [5.0, 5.0, 2.0]]]])
    dy = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])  # 2x2 windows, stride 1: each window's max is 5
    expected = np.array([[[[0.0, 1.0 + 10.0, 0.0], [100.0, 0.0, 1000.0], [0.0, 0.0, 0.0]]]])
    for form in (textbook, fast):
        np.testing.assert_array_equal(form.max_pool2d_backward(x, dy, 2, 1), expected)


def test_workspace_reuses_its_buffers_between_batches_and_returns_fresh_arrays():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((5, 5, 2, 3)).astype(np.float32)
    bias = rng.standard_normal(3).astype(np.float32)
    workspace = fast.Conv2dWorkspace((4, 2, 9, 8), kernel.shape, 1, "same", np.float32)
    first = rng.standard_normal((4, 2, 9, 8)).astype(np.float32)
    y_first = workspace.forward(first, kernel, bias)
    kept = y_first.copy()
    for _ in range(2):
        x = rng.standard_normal((4, 2, 9, 8)).astype(np.float32)
        y = workspace.forward(x, kernel, bias)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        dx, dkernel, dbias = workspace.backward(kernel, dy)
        assert dx is not None
        assert_close(y, textbook.conv2d_forward(x, kernel, bias, 1, "same"), np.float32)
        for got, want in zip((dx, dkernel, dbias), textbook.conv2d_backward(x, kernel, dy, 1, "same"), strict=True):
            assert_close(got, want, np.float32)
    np.testing.assert_array_equal(y_first, kept)
    skipped, dkernel_only, _ = workspace.backward(kernel, dy, input_gradient=False)
    assert skipped is None
    np.testing.assert_array_equal(dkernel_only, dkernel)


def test_same_padding_matches_keras_sizes_and_valid_padding_shrinks():
    assert textbook.conv2d_output_shape((1, 28, 28), 5, 6, 1, "same") == (6, 28, 28)
    assert textbook.conv2d_output_shape((6, 14, 14), 5, 16, 1, "valid") == (16, 10, 10)
    assert textbook.conv2d_output_shape((3, 7, 9), 3, 4, 2, "same") == (4, 4, 5)
    assert textbook.conv2d_output_shape((3, 7, 9), 5, 4, 2, "valid") == (4, 2, 3)
    assert textbook.padding_amounts(8, 4, 2, "same") == (1, 1)  # (4-1)*2 + 4 - 8 = 2
    assert textbook.padding_amounts(9, 4, 1, "same") == (1, 2)  # odd total: the extra zero goes after
    assert textbook.pool2d_output_shape((6, 28, 28), 2, 2) == (6, 14, 14)
    assert textbook.pool2d_output_shape((6, 7, 9), 3, 1) == (6, 5, 7)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: textbook.conv2d_output_shape((1, 4, 4), 5, 2, 1, "valid"), "kernel 5x5 is larger than the 4x4 input"),
        (lambda: textbook.conv2d_output_shape((1, 4, 4), 3, 2, 0, "valid"), "stride=0"),
        (lambda: textbook.conv2d_output_shape((1, 4, 4), 3, 2, 1, "full"), "padding='full'"),
        (lambda: textbook.pool2d_output_shape((1, 3, 5), 4, 4), "window 4x4 is larger than the 3x5 input"),
        (lambda: fast.Conv2dWorkspace((1, 2, 5, 5), (3, 3, 1, 4), 1, "valid", np.float32), "reads 1 channels"),
    ],
)
def test_shapes_that_do_not_fit_are_rejected_with_both_sizes(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


# Finite differences: each gradient against (L(w + h) - L(w - h)) / 2h, L = sum(projection * y), in float64.


def relative_error(analytic: FloatArray, numerical: FloatArray) -> float:
    return float(np.abs(analytic - numerical).max() / max(np.abs(numerical).max(), 1e-12))


def convolution_gradient_errors(backward=textbook.conv2d_backward, kernel_size=3, stride=2, padding="same"):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 5, 6))
    kernel = rng.standard_normal((kernel_size, kernel_size, 2, 3))
    bias = rng.standard_normal(3)
    projection = rng.standard_normal(textbook.conv2d_forward(x, kernel, bias, stride, padding).shape)

    def loss() -> float:
        return float(np.sum(projection * textbook.conv2d_forward(x, kernel, bias, stride, padding)))

    analytic = backward(x, kernel, projection, stride, padding)  # dL/dy is the projection
    return [relative_error(a, numerical_gradient(loss, p)) for a, p in zip(analytic, (x, kernel, bias), strict=True)]


@pytest.mark.parametrize(
    ("kernel_size", "stride", "padding"),
    [(3, 1, "same"), (3, 2, "same"), (4, 2, "same"), (2, 1, "same"), (3, 2, "valid")],  # even kernels: uneven pads
)
def test_textbook_convolution_gradients_match_finite_differences(kernel_size, stride, padding):
    errors = convolution_gradient_errors(kernel_size=kernel_size, stride=stride, padding=padding)
    assert max(errors) < 1e-7, dict(zip(("dx", "dkernel", "dbias"), errors, strict=True))


@pytest.mark.parametrize(("size", "stride"), [(2, 2), (3, 1), (3, 2)])
def test_textbook_pooling_gradients_match_finite_differences(size, stride):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 7, 9))  # distinct values: no ties, so the max is differentiable here
    projection = rng.standard_normal((2, *textbook.pool2d_output_shape((2, 7, 9), size, stride)))

    def max_loss() -> float:
        return float(np.sum(projection * textbook.max_pool2d_forward(x, size, stride)))

    def avg_loss() -> float:
        return float(np.sum(projection * textbook.avg_pool2d_forward(x, size, stride)))

    max_gradient = textbook.max_pool2d_backward(x, projection, size, stride)
    avg_gradient = textbook.avg_pool2d_backward(x.shape, projection, size, stride)
    assert relative_error(max_gradient, numerical_gradient(max_loss, x)) < 1e-7
    assert relative_error(avg_gradient, numerical_gradient(avg_loss, x)) < 1e-7


def test_the_checks_catch_a_kernel_flipped_by_mistake():
    def flipped_backward(x, kernel, dy, stride, padding):  # the classic slip: convolution instead of correlation
        return textbook.conv2d_backward(x, kernel[::-1, ::-1], dy, stride, padding)

    errors = convolution_gradient_errors(backward=flipped_backward)
    assert errors[0] > 0.1  # dx is wrong, and finite differences say so

    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 9))
    kernel = rng.standard_normal((3, 3, 3, 4))
    bias = np.zeros(4)
    fast_y = fast.conv2d_forward(x, kernel[::-1, ::-1], bias, 1, "same")
    assert not np.allclose(fast_y, textbook.conv2d_forward(x, kernel, bias, 1, "same"), rtol=1e-3)
