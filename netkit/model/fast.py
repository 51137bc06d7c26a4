"""Fast forms: how netkit's built-in plugins run fast. Not part of the plugin contract.

A plugin is written in textbook form (:mod:`netkit.model.layer`, :mod:`netkit.protocols`). A built-in may
also have a fast form: a subclass of its textbook class that inherits its options, validation and docs and
adds the methods below, which compute the same maths into buffers the caller or the plugin keeps, so that a
training step allocates nothing. The model and trainer call these when a plugin has them and the textbook
methods otherwise; :mod:`netkit.testing` proves both give the same numbers. ``netkit train --textbook``
builds every plugin as its textbook class (:func:`textbook_class`).

The rules that make it fast live here and nowhere public:

- arrays a fast layer hands over may be column-major (the transposed view of a (units, rows) buffer): a
  wide layer's products run faster that way. Index by axis, never by memory order;
- the gradient handed to ``fast_backward`` is the caller's scratch, which the layer may overwrite; dL/dx
  goes back laid out like the x it got;
- arrays returned by ``fast_forward``/``fast_backward`` are the layer's buffers, valid until its next call;
- a layer that computes ``activation(x @ weight + bias)`` on flat rows says so (``dense_parts``), and a stack
  of such layers predicts through :mod:`netkit.model.dense_inference`, which may hand an activation -z
  (``from_negated``) when that is cheaper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import numpy as np

from netkit.model.layer import Layer
from netkit.types import FloatArray


class Fast:
    """Marks a plugin class as the fast form of the textbook class it derives from."""


def textbook_class(cls: type) -> type:
    """The textbook form of a plugin class: the nearest class it derives from that is not a fast form."""
    return next(base for base in cls.__mro__ if not issubclass(base, Fast))


@attrs.frozen
class DenseParts:
    """A layer whose output is ``activation(x @ weight + bias)`` for flat rows x: those three (the arrays are
    the layer's own, not copies)."""

    weight: FloatArray
    bias: FloatArray
    activation: Any


class FastLayer(Layer, Fast):
    """A layer's fast form. The defaults fall back on the textbook methods; a fast layer overrides them."""

    def fast_forward(self, x: FloatArray, training: bool) -> FloatArray:
        return self.forward(x, training)

    def fast_backward(self, grad: FloatArray, dz_given: bool, input_gradient: bool) -> FloatArray | None:
        """dL/dx (None when ``input_gradient`` is false); ``dz_given``: ``grad`` is already dL/dz (fused loss)."""
        return self.backward(grad)

    def transposed_parameters(self) -> frozenset[str]:
        """The 2-D parameters this layer would like kept transposed in memory (the model obliges)."""
        return frozenset()

    def dense_parts(self) -> DenseParts | None:
        """This layer's weight, bias and activation when it computes ``activation(x @ weight + bias)``."""
        return None


class FastActivation(Fast):
    """An activation's fast form: the same function and derivative written into ``out``."""

    # True for an activation computed in fewer passes from -z than from z (the sigmoid, 1 / (1 + e^-z)):
    # inference then computes -z = -b - x W in the pass that would add the bias, and calls
    # ``forward_from_negated_into``.
    from_negated: ClassVar[bool] = False
    # The largest |a| this activation gives, when that is finite (the sigmoid's and tanh's 1); with it,
    # inference bounds the next dense layer's z and calls that layer's ``forward_bounded_into``, if it has
    # one (``bounded_form``).
    output_bound: ClassVar[float | None] = None
    bounded_form: ClassVar[bool] = False

    def forward_into(self, z: FloatArray, out: FloatArray) -> FloatArray:
        raise NotImplementedError

    def forward_from_negated_into(self, negated_z: FloatArray, out: FloatArray) -> FloatArray:
        """The activation of z, given -z, into ``out`` (which may be ``negated_z``)."""
        raise NotImplementedError

    def forward_bounded_into(self, z: FloatArray, out: FloatArray, bound: float) -> FloatArray:
        """``forward_into`` for z known to lie within [-bound, bound]: guards such z cannot need may go."""
        return self.forward_into(z, out)

    def backward_into(self, z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        """dL/dz into ``out``, which may be ``grad`` itself."""
        raise NotImplementedError


class FastLoss(Fast):
    """A loss's fast form: gradients written into ``out``; ``fused_gradient_into`` gives dL/dz directly
    when the output activation is the loss's ``fused_activation`` (the Jacobian cancels)."""

    fused_activation: ClassVar[str | None] = None

    def gradient_into(self, output: FloatArray, target: FloatArray, out: FloatArray) -> FloatArray:
        raise NotImplementedError

    def fused_gradient_into(self, output: FloatArray, target: FloatArray, out: FloatArray) -> FloatArray:
        raise NotImplementedError


ActivationForward = Callable[[FloatArray, FloatArray], FloatArray]
ActivationBackward = Callable[[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]
LossGradient = Callable[[FloatArray, FloatArray, FloatArray], FloatArray]


def activation_kernels(activation: Any) -> tuple[ActivationForward, ActivationBackward]:
    """``(forward(z, out), backward(z, a, grad, out))`` for any activation: its fast form, or its textbook
    methods with the result copied into ``out``."""
    if isinstance(activation, FastActivation):
        return activation.forward_into, activation.backward_into
    textbook_forward, textbook_backward = activation.forward, activation.backward

    def forward(z: FloatArray, out: FloatArray) -> FloatArray:
        np.copyto(out, textbook_forward(z))
        return out

    def backward(z: FloatArray, a: FloatArray, grad: FloatArray, out: FloatArray) -> FloatArray:
        np.copyto(out, textbook_backward(z, a, grad))  # computed in full before out (maybe grad) is written
        return out

    return forward, backward


def loss_gradient_kernel(loss: Any) -> LossGradient:
    """``gradient(output, target, out)`` for any loss: its fast form, or its textbook gradient copied in."""
    if isinstance(loss, FastLoss):
        return loss.gradient_into

    def gradient(output: FloatArray, target: FloatArray, out: FloatArray) -> FloatArray:
        np.copyto(out, loss.gradient(output, target))
        return out

    return gradient
