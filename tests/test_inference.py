"""Predicting many rows: exact at the extremes, and leaves the caller's thread as it found it."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from netkit.errors import InputRangeWarning
from netkit.model.network import Network
from netkit.plugins import layers
from netkit.types import FloatArray

SEED_NET = ["dense:units=16", "dense:units=16", "dense:units=10,activation=softmax"]
ROWS = 3_000  # three chunks and enough work for a second thread


@contextlib.contextmanager
def _cpu_set(cpus: set[int]) -> Iterator[None]:
    """The calling thread restricted to ``cpus`` while the block runs."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


def _images(rows: int = ROWS) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, (rows, 784)).astype(np.float32)


def test_saturated_sigmoids_give_exact_zeros_and_ones_without_warnings() -> None:
    """e^-z overflows for z far below zero: the sigmoid is then exactly 0, and no warning escapes."""
    model = Network(784, ["dense:units=4", "dense:units=2,activation=sigmoid"], "mse", np.random.default_rng(1))
    first = model.layers[0].parameters
    first["weight"][...] = 0.0
    first["bias"][...] = [-1000.0, 1000.0, -50.0, 50.0]
    last = model.layers[1].parameters
    last["weight"][...] = [[1000.0, 0.0], [0.0, -1000.0], [0.0, 0.0], [0.0, 0.0]]
    last["bias"][...] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = model.predict_proba(_images())
    # Hidden units: 0, 1, e^-50-ish, 1 - e^-50-ish; outputs: sigmoid(0) and sigmoid(-1000).
    np.testing.assert_array_equal(outputs, np.tile([0.5, 0.0], (ROWS, 1)).astype(np.float32))


def test_predictions_follow_parameters_changed_in_place() -> None:
    model = Network(784, SEED_NET, rng=np.random.default_rng(2))
    images = _images()
    before = model.predict_proba(images)
    model.layers[-1].parameters["bias"][...] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 30]
    after = model.predict_proba(images)
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after.argmax(axis=1), np.full(ROWS, 9))


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs Linux and two CPUs"
)
def test_the_callers_cpu_set_is_restored() -> None:
    """On two CPUs the two predicting threads are each held to one for the call; the caller's set comes
    back, and the outputs are those of one chunk alone."""
    model = Network(784, SEED_NET, rng=np.random.default_rng(3))
    expected = model.predict_proba(_images()[:1_000])
    given = set(sorted(os.sched_getaffinity(0))[:2])
    with _cpu_set(given):
        both = model.predict_proba(_images())
        assert os.sched_getaffinity(0) == given
    np.testing.assert_allclose(both[:1_000], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="thread CPU sets are a Linux feature")
def test_a_process_held_to_one_cpu_predicts_on_it() -> None:
    model = Network(784, SEED_NET, rng=np.random.default_rng(4))
    one = {min(os.sched_getaffinity(0))}
    with _cpu_set(one):
        outputs = model.predict_proba(_images())
        assert os.sched_getaffinity(0) == one
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)


def test_a_warning_raised_as_an_error_stops_both_threads_cleanly() -> None:
    """Raw 0..255 pixels with warnings as errors: the range check raises while the helper thread has started;
    the next prediction works and the caller's CPU set is its own again."""
    model = Network(784, SEED_NET, rng=np.random.default_rng(5))
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputRangeWarning):
            model.predict_proba(_images() * 255)
        outputs = model.predict_proba(_images())
    assert outputs.shape == (ROWS, 10)
    if allowed is not None:
        assert os.sched_getaffinity(0) == allowed


def test_threads_predicting_with_one_model_get_their_own_answers() -> None:
    """A threaded server's request threads may share a model: each call's outputs are its own rows'."""
    model = Network(784, SEED_NET, rng=np.random.default_rng(6))
    inputs = [
        np.random.default_rng(seed).uniform(0, 1, (rows, 784)).astype(np.float32)
        for seed, rows in ((10, 3_000), (11, 1), (12, 2_500), (13, 40))
    ]
    expected = [model.predict_proba(x) for x in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            answers = list(pool.map(model.predict_proba, inputs))
            for got, want in zip(answers, expected, strict=True):
                np.testing.assert_array_equal(got, want)


def test_a_subclass_of_the_fast_dense_layer_predicts_through_its_own_forward() -> None:
    """Prediction computes a stack of netkit's own dense layers in passes of its own; a subclass that changes
    the maths is not taken for one."""

    class Halved(layers.Dense):
        def fast_forward(self, x: FloatArray, training: bool) -> FloatArray:
            return super().fast_forward(x, training) * 0.5

    model = Network(784, [Halved(units=16), Halved(units=10, activation="softmax")], rng=np.random.default_rng(7))
    images = _images()
    np.testing.assert_allclose(model.predict_proba(images), model.forward(images).copy(), rtol=1e-6)
    assert not np.allclose(model.predict_proba(images).sum(axis=1), 1.0)  # halved softmax rows sum to 0.5


@pytest.mark.parametrize("rows", [1, ROWS])
def test_a_network_of_flattens_alone_predicts_its_flattened_rows(rows: int) -> None:
    """No dense layer to compute: the prediction is the rows as the flatten lays them out."""
    model = Network((28, 28), ["flatten"], "mse", np.random.default_rng(0))
    images = _images(rows).reshape(rows, 28, 28)
    np.testing.assert_array_equal(model.predict_proba(images), images.reshape(rows, 784))


@pytest.mark.parametrize("rows", [1, 20, 21, 400])
def test_small_predictions_equal_one_blas_thread_products(rows: int) -> None:
    """Below the size at which BLAS splits a product, predict_proba leaves BLAS's thread count as it is; the
    outputs still equal those of one BLAS thread at every size around the line. From 64 rows two BLAS threads
    change the last bits, so 400 rows fails if the line is drawn too high."""
    model = Network(784, SEED_NET, rng=np.random.default_rng(3))
    images = _images(rows)
    with threadpool_limits(limits=1, user_api="blas"):
        expected = model.predict_proba(images)
    with threadpool_limits(limits=2, user_api="blas"):
        np.testing.assert_array_equal(model.predict_proba(images), expected)
