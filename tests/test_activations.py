"""Numerical edge cases of the built-in activations beyond the generic conformance checks."""

from __future__ import annotations

import numpy as np
import pytest

from netkit.plugins.activations import REPEATED_ROW_VALUES_UP_TO, ReLU, Sigmoid, Softmax


def _reference_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z.astype(np.float64) - z.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def test_softmax_is_exact_for_rows_far_apart_in_one_batch() -> None:
    """Rows hundreds apart take the per-row path; none loses precision to underflow."""
    z = np.array([[0, 1, 2], [-200, -199, -201], [300, 0, 0], [5, -100, 4]], dtype=np.float32)
    a = Softmax().forward_into(z, np.empty_like(z))
    np.testing.assert_allclose(a, _reference_softmax(z), rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-6)


def test_softmax_never_produces_subnormal_numbers() -> None:
    """Subnormal floats make every later operation several times slower."""
    z = np.array([[0.0, -90.0, -150.0, -1000.0]], dtype=np.float32)
    a = Softmax().forward_into(z, np.empty_like(z))
    tiny = np.finfo(np.float32).tiny
    assert not np.any((a > 0) & (a < tiny))
    assert a[0, 0] == np.float32(1.0) and np.all(a[0, 1:] < 1e-30)


def test_sigmoid_saturates_without_overflow_warnings() -> None:
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]], dtype=np.float32)
    with np.errstate(all="raise"):
        a = Sigmoid().forward_into(z, np.empty_like(z))
    np.testing.assert_allclose(a, [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-7)


@pytest.mark.parametrize("rows", [1, 32, 1000])
def test_sigmoid_equals_its_formula_on_small_and_large_batches_and_saturates_quietly(rows: int) -> None:
    z = np.random.default_rng(rows).normal(0, 8, (rows, 16)).astype(np.float32)
    z[0, :4] = [-1000.0, -89.0, 89.0, 1000.0]
    z[-1, -1] = np.nan
    with np.errstate(all="raise"):
        a = Sigmoid().forward_into(z, np.empty_like(z))
    with np.errstate(over="ignore", invalid="ignore"):
        expected = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
        np.testing.assert_allclose(a, expected, rtol=1e-6, atol=1e-7)
    assert np.isnan(a[-1, -1])  # a diverged net must show
    assert a[0, 0] == 0.0 and a[0, 3] == 1.0


def test_softmax_keeps_a_nan_row_nan() -> None:
    """A diverged net must show in the loss, not turn into a uniform distribution."""
    z = np.array([[np.nan, 1.0, 2.0], [0.0, 1.0, 2.0]], dtype=np.float32)
    with np.errstate(invalid="ignore"):
        a = Softmax().forward_into(z, np.empty_like(z))
    assert np.all(np.isnan(a[0]))
    np.testing.assert_allclose(a[1], _reference_softmax(z[1:])[0], rtol=1e-6)


@pytest.mark.parametrize("classes", [3, REPEATED_ROW_VALUES_UP_TO, REPEATED_ROW_VALUES_UP_TO + 1, 40])
def test_softmax_forward_and_backward_for_few_and_many_classes(classes: int) -> None:
    """Row sums kept in every column (few classes) or in one column (many) give the same answers."""
    rng = np.random.default_rng(classes)
    z = (rng.standard_normal((7, classes)) * 3).astype(np.float32)
    grad = rng.standard_normal((7, classes)).astype(np.float32)
    softmax = Softmax()
    a = softmax.forward_into(z, np.empty_like(z)).copy()
    np.testing.assert_allclose(a, _reference_softmax(z), rtol=1e-5)
    expected = a * (grad - (grad * a).sum(axis=1, keepdims=True))  # the Jacobian-vector product
    np.testing.assert_allclose(softmax.backward_into(z, a, grad, np.empty_like(z)), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("activation", [Sigmoid(), ReLU()], ids=["sigmoid", "relu"])
def test_backward_scratch_follows_each_new_array(activation: Sigmoid | ReLU) -> None:
    """The scratch is kept for the array it was made for; a different array (shape, layout) gets its own."""
    rng = np.random.default_rng(3)
    rows_first = rng.standard_normal((6, 4)).astype(np.float32)
    column_major = np.asfortranarray(rng.standard_normal((6, 4)).astype(np.float32))
    short = rng.standard_normal((2, 4)).astype(np.float32)
    for z in (rows_first, short, column_major, rows_first, short):
        a = activation.forward_into(z, np.empty_like(z))
        grad = np.ones_like(z)
        slope = a * (1 - a) if isinstance(activation, Sigmoid) else (z > 0).astype(np.float32)
        np.testing.assert_allclose(activation.backward_into(z, a, grad, np.empty_like(z)), slope, rtol=1e-6)
