"""A convolution's column matrix stays within ``COLUMN_BYTES`` at any batch size (``FORWARD_COLUMN_BYTES`` outside
training): large batches run in slices of samples, with the outputs of one matrix product over the whole batch.

Each output reads only its own sample's columns, so slicing changes no sum. The products still run at another
width, and BLAS may then round the last bit differently (it does so for a dense layer's product on 1,000 rows
against the same rows in pieces), so the outputs are held to a few units in the last place rather than to
the bit; the kernel's gradient is the same sum added slice by slice.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

import netkit.model.inference as inference
import netkit.plugins.convolution_kernels as kernels
from netkit.model.network import Network

CASES = [
    ("conv2d:filters=3,kernel=5,padding=same,activation=relu", (1, 12, 12), np.float32),
    ("conv2d:filters=4,kernel=3,stride=2,activation=tanh", (3, 9, 9), np.float32),
    ("conv2d:filters=2,kernel=1,activation=relu", (2, 5, 7), np.float64),
]


def _net(spec: str, shape: tuple[int, ...], dtype: Any) -> Network:
    return Network(shape, [spec, "dense:units=10,activation=softmax"], rng=np.random.default_rng(1), dtype=dtype)


def _pass(network: Network, x: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, ...]:
    """The first layer's fast forward and backward: (y, dx, dK, db), copied."""
    layer = network.layers[0]
    y = layer.fast_forward(x, True).copy()
    dx = layer.fast_backward(dy.copy(), False, True)
    assert dx is not None
    return y, dx.copy(), layer.gradients["kernel"].copy(), layer.gradients["bias"].copy()


def _budget_for(network: Network, x: np.ndarray, samples: int) -> int:
    """A column budget that holds ``samples`` samples of ``x``."""
    layer = network.layers[0]
    one = kernels.rows_per_slice(x.shape[1:], layer.parameters["kernel"].shape, layer.stride, layer.padding, x.dtype)
    return kernels.COLUMN_BYTES // one * samples + 1


@pytest.mark.parametrize(("spec", "shape", "dtype"), CASES, ids=["5x5-same", "3x3-stride2-3ch", "1x1-float64"])
@pytest.mark.parametrize("batch", [7, 37])
def test_a_sliced_batch_gives_the_outputs_and_gradients_of_one_product(
    spec: str, shape: tuple[int, ...], dtype: Any, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = _net(spec, shape, dtype)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (batch, *shape)).astype(dtype)
    dy = rng.standard_normal((batch, *network.shapes[1])).astype(dtype)
    whole = _pass(network, x, dy)  # the default budget holds these batches in one product
    monkeypatch.setattr(kernels, "COLUMN_BYTES", _budget_for(network, x, 5))  # slices of 5, the last one short
    sliced = _pass(network, x, dy)
    last_place = 4 * np.finfo(dtype).eps  # y and dx: each sample's own sums, the same terms in the same order
    for got, want in zip(sliced[:2], whole[:2], strict=True):
        np.testing.assert_allclose(got, want, rtol=last_place, atol=last_place * np.abs(want).max())
    summed = 100 * np.finfo(dtype).eps  # dK, db: the same sums over the batch, added slice by slice
    for got, want in zip(sliced[2:], whole[2:], strict=True):
        np.testing.assert_allclose(got, want, rtol=summed, atol=summed * np.abs(want).max())


def test_predictions_of_a_conv_net_do_not_depend_on_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    network = _net(*CASES[0])
    x = np.random.default_rng(2).uniform(0, 1, (300, 1, 12, 12)).astype(np.float32)
    monkeypatch.setattr(kernels, "FORWARD_COLUMN_BYTES", 2**40)
    whole = network.predict_proba(x)
    monkeypatch.setattr(kernels, "FORWARD_COLUMN_BYTES", _budget_for(network, x, 7))
    np.testing.assert_allclose(network.predict_proba(x), whole, rtol=1e-6, atol=1e-7)


def _seven_by_seven() -> Network:
    # A 7x7 kernel and one filter: the column matrix holds 49 values per output pixel, 49 times the output.
    return _net("conv2d:filters=1,kernel=7,padding=same,activation=relu", (1, 28, 28), np.float32)


def _peak_bytes(work: Any) -> int:
    tracemalloc.start()
    try:
        work()
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def test_a_large_training_batch_keeps_the_column_matrices_within_the_budget() -> None:
    network = _seven_by_seven()
    x = np.random.default_rng(3).uniform(0, 1, (3_000, 1, 28, 28)).astype(np.float32)
    dy = np.ones((3_000, 1, 28, 28), np.float32)
    whole_columns = 49 * x.nbytes  # 461 MB if the batch were one product
    # Sliced: one column matrix and its gradient, plus arrays the size of x (x, z, a, dy, dx, a padded slice).
    bound = 2 * kernels.COLUMN_BYTES + 10 * x.nbytes
    assert bound < whole_columns
    layer = network.layers[0]
    peak = _peak_bytes(lambda: (layer.fast_forward(x, True), layer.fast_backward(dy, False, True)))
    assert peak <= bound, f"peak {peak / 2**20:.0f} MiB, bound {bound / 2**20:.0f} MiB"


def test_predicting_many_images_keeps_memory_within_the_chunk_and_column_budgets() -> None:
    network = _seven_by_seven()
    x = np.random.default_rng(4).uniform(0, 1, (10_000, 1, 28, 28)).astype(np.float32)
    # Two threads, each with one chunk's layer outputs and one slice's column matrix; then the result.
    bound = 2 * (inference.CHUNK_BYTES + kernels.FORWARD_COLUMN_BYTES) + 10 * 10_000 * 4
    assert bound < 49 * 1_024 * 784 * 4  # the column matrix of one 1,024-row chunk, unsliced
    peak = _peak_bytes(lambda: network.predict_proba(x))
    assert peak <= bound, f"peak {peak / 2**20:.0f} MiB, bound {bound / 2**20:.0f} MiB"
