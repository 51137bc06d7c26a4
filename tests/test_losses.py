"""The built-in losses' gradients beyond the generic conformance checks."""

from __future__ import annotations

import numpy as np
import pytest

from netkit.plugins.losses import CrossEntropy, MeanSquaredError


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_follow_each_new_batch_size(dtype: type[np.floating]) -> None:
    """The fast forms keep ``1 / rows`` for the last call: a new batch size or dtype must not reuse it."""
    rng = np.random.default_rng(0)
    cross_entropy, squared = CrossEntropy(), MeanSquaredError()
    for rows in [4, 2, 2, 4, 1]:
        output = rng.uniform(0.1, 0.9, (rows, 3)).astype(dtype)
        target = np.eye(3, dtype=dtype)[rng.integers(0, 3, rows)]
        out = np.empty_like(output)
        expected = (output - target) / rows
        np.testing.assert_allclose(cross_entropy.fused_gradient_into(output, target, out), expected, rtol=1e-6)
        np.testing.assert_allclose(squared.gradient_into(output, target, out), expected, rtol=1e-6)
        expected = -target / (output + 1e-7) / rows
        np.testing.assert_allclose(cross_entropy.gradient_into(output, target, out), expected, rtol=1e-5)
        assert out.dtype == dtype
