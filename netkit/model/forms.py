"""The two forms a plugin may take, and the adapters that let either go wherever the other is expected.

*Textbook* form (what :mod:`netkit.plugins.textbook` uses, and the easy way to write a plugin): methods
return new arrays. An activation has ``forward(z) -> a`` and ``backward(z, a, grad) -> dL/dz``; a loss has
``gradient(output, target) -> dL/da`` and ``fused_gradient(output, target) -> dL/dz``.

*Fast* form (the built-ins in :mod:`netkit.plugins`): the same methods take an ``out`` buffer to write into
(``out`` may be the incoming gradient itself), and a loss's gradients take a ``scale`` too, so that a
training step allocates nothing.

A method's form is told by how many arguments it takes, once, when a layer or model is built; the hot
path then calls the adapted function without asking again.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from netkit.types import FloatArray

FastForward = Callable[[FloatArray, FloatArray], FloatArray]
FastBackward = Callable[[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]
TextbookForward = Callable[[FloatArray], FloatArray]
TextbookBackward = Callable[[FloatArray, FloatArray, FloatArray], FloatArray]
FastLossGradient = Callable[..., FloatArray]  # (output, target, out, scale=1.0) -> out


def _positional_count(method: Callable[..., Any]) -> int:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds for p in inspect.signature(method).parameters.values())


def is_textbook_activation(activation: Any) -> bool:
    """True when ``activation.forward`` takes only z (no ``out`` buffer)."""
    return _positional_count(activation.forward) == 1


def is_textbook_loss(loss: Any) -> bool:
    """True when ``loss.gradient`` takes only (output, target) (no ``out`` buffer)."""
    return _positional_count(loss.gradient) == 2


def fast_activation(activation: Any) -> tuple[FastForward, FastBackward]:
    """``(forward(z, out), backward(z, a, grad, out))`` for an activation of either form."""
    if not is_textbook_activation(activation):
        return activation.forward, activation.backward
    textbook_forward, textbook_backward = activation.forward, activation.backward

    def forward(z: FloatArray, out: FloatArray) -> FloatArray:
        np.copyto(out, textbook_forward(z))
        return out

    def backward(z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        np.copyto(out, textbook_backward(z, a, grad))  # computed in full before out (maybe grad) is written
        return out

    return forward, backward


def textbook_activation(activation: Any) -> tuple[TextbookForward, TextbookBackward]:
    """``(forward(z), backward(z, a, grad))`` for an activation of either form."""
    if is_textbook_activation(activation):
        return activation.forward, activation.backward
    fast_forward, fast_backward = activation.forward, activation.backward

    def forward(z: FloatArray) -> FloatArray:
        return fast_forward(z, np.empty_like(z))  # type: ignore[no-any-return]

    def backward(z: FloatArray, a: FloatArray, grad: FloatArray) -> FloatArray:
        return fast_backward(z, a, grad, np.empty_like(grad))  # type: ignore[no-any-return]

    return forward, backward


def fast_loss(loss: Any) -> tuple[FastLossGradient, FastLossGradient]:
    """``(gradient, fused_gradient)``, each ``(output, target, out, scale=1.0) -> out``, for either form."""
    if not is_textbook_loss(loss):
        return loss.gradient, getattr(loss, "fused_gradient", loss.gradient)

    def adapt(textbook: Callable[[FloatArray, FloatArray], FloatArray]) -> FastLossGradient:
        def gradient(output: FloatArray, target: FloatArray, out: FloatArray, scale: float = 1.0) -> FloatArray:
            np.multiply(textbook(output, target), scale, out)
            return out

        return gradient

    return adapt(loss.gradient), adapt(getattr(loss, "fused_gradient", loss.gradient))


def loss_gradients(loss: Any) -> tuple[Callable[[FloatArray, FloatArray], FloatArray], ...]:
    """``(gradient(output, target), fused_gradient(output, target))`` returning new arrays, for either form."""
    fused = getattr(loss, "fused_gradient", loss.gradient)  # only used when fused_activation names one
    if is_textbook_loss(loss):
        return loss.gradient, fused

    def adapt(fast: FastLossGradient) -> Callable[[FloatArray, FloatArray], FloatArray]:
        return lambda output, target: fast(output, target, np.empty_like(output))

    return adapt(loss.gradient), adapt(fused)
