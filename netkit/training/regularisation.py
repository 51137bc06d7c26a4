"""L2 weight decay and max-norm, the two weight constraints every optimiser takes as options.

``weight_decay`` (lambda) adds lambda/2 ||W||^2 per weight matrix to the loss, so every step sees the gradient
dL/dW + lambda W (biases are not decayed). ``max_norm`` (c) rescales, after every step, each unit's vector of
incoming weights (a column of W) whose length exceeds c back to length c (Srivastava et al. 2014 pair it
with dropout). Both act on the parameters each layer declares as ``weights`` (whose last axis indexes the
units), which is why the trainer applies them around the optimiser's step rather than the optimiser
itself: an optimiser only sees the flat parameter vector.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from netkit.model.layer import Layer
from netkit.types import FloatArray

Pair = tuple[FloatArray, FloatArray]  # a layer's weights and their gradient


def weight_pairs(layers: Sequence[Layer]) -> list[Pair]:
    """Every declared weight parameter of ``layers`` with its gradient."""
    return [(layer.parameters[name], layer.gradients[name]) for layer in layers for name in layer.weights]


def decay(pairs: Sequence[Pair], factor: float, scratches: Sequence[FloatArray]) -> None:
    """gradient += factor x weight, for each pair (factor: lambda).

    ``scratches`` (one array shaped like each weight) hold factor x weight: a fresh product of a wide layer's
    weights every step would be a large allocation, and its page faults cost more than the arithmetic.
    """
    for (weight, gradient), scratch in zip(pairs, scratches, strict=True):
        gradient += np.multiply(weight, factor, out=scratch)


def limit_norms(pairs: Sequence[Pair], max_norm: float) -> None:
    """Each unit's incoming weights (a column of a dense weight matrix) to a length of at most ``max_norm``."""
    limit = max_norm * max_norm
    for weights, _ in pairs:
        weight = weights if weights.ndim == 2 else weights.reshape(-1, weights.shape[-1])  # a view: weights are whole
        squared = np.einsum("ij,ij->j", weight, weight)  # the columns' squared lengths, with no temporary
        over = squared > limit
        if over.any():  # only the columns too long are touched
            weight[:, over] *= (max_norm / np.sqrt(squared[over])).astype(weight.dtype)


def regularised(
    step: Callable[[], None], pairs: Sequence[Pair], weight_decay: float, max_norm: float | None
) -> Callable[[], None]:
    """``step`` with weight decay before it and the max-norm limit after it."""

    scratches = [np.empty_like(weight) for weight, _ in pairs] if weight_decay else []

    def constrained_step() -> None:
        if weight_decay:
            decay(pairs, weight_decay, scratches)
        step()
        if max_norm is not None:
            limit_norms(pairs, max_norm)

    return constrained_step
