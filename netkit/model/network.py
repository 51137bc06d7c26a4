"""``Sequential``: layers in a row, a loss at the end, and all parameters in one flat float32 vector.

Each layer's weights are views into ``parameters`` (and its gradients into ``gradients``), so optimisers update
every layer with a few NumPy calls, gradient checks perturb one vector, and files store named views.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, NamedTuple

import numpy as np

from netkit.data.dataset import one_hot
from netkit.errors import ConfigError
from netkit.model.forms import fast_loss
from netkit.protocols import Layer, Loss
from netkit.registry import Registry, default_registry
from netkit.types import Config, FloatArray, LabelArray

# Rows per forward call when predicting, at most: a chunk this size keeps each layer's input and output in
# the CPU caches, where one product over all rows streams them through memory (bench/README.md, "Inference");
# it bounds memory too. Rows are split into equal chunks, so the layers' buffers are allocated once.
PREDICT_CHUNK = 1_024


def _transposed_parameters(layer: Layer) -> frozenset[str]:
    """The names of the parameters ``layer`` keeps transposed in memory (an optional Layer method)."""
    method = getattr(layer, "transposed_parameters", None)
    return frozenset(method()) if method is not None else frozenset()


class Backprop(NamedTuple):
    """One batch's loss and true gradients dL/dparameter, keyed by layer name then parameter name (copies)."""

    loss: float
    gradients: dict[str, dict[str, FloatArray]]


class Sequential:
    """A feed-forward network: ``Sequential(784, ["dense:units=16", ...], "cross-entropy")``.

    Layers and the loss may be given as plugin instances or as specs for the registry. Parameters are
    initialised from ``rng`` (a ``numpy.random.Generator``; default seed 0) at assembly time. ``dtype`` is
    float32; float64 exists for finite-difference gradient checks.
    """

    def __init__(
        self,
        input_size: int,
        layers: Sequence[Layer | str | Mapping[str, Any]],
        loss: Loss | str | Mapping[str, Any] = "cross-entropy",
        rng: np.random.Generator | None = None,
        registry: Registry | None = None,
        dtype: type[np.floating[Any]] = np.float32,
    ) -> None:
        self.registry = registry or default_registry()
        if isinstance(input_size, bool) or not isinstance(input_size, int | np.integer) or input_size < 1:
            raise ConfigError(f"input_size must be a positive whole number. Received: input_size={input_size!r}")
        if not layers:
            raise ConfigError("a model needs at least one layer")
        self.input_size = int(input_size)
        self.layers: list[Layer] = [
            self.registry.create("layers", spec) if isinstance(spec, str | Mapping) else spec for spec in layers
        ]
        self.loss: Loss = self.registry.create("losses", loss) if isinstance(loss, str | Mapping) else loss
        self.dtype = np.dtype(dtype)
        self.sizes = self._build()
        self.parameters, self._gradients, self.parameter_views = self._allocate()
        # What the gradient buffer holds: this times dL/dparameters. Only a Trainer's learning-rate fold makes
        # it other than 1, and reading ``gradients`` divides it out first.
        self._gradient_scale = 1.0
        self._loss_gradient, self._loss_fused_gradient = fast_loss(self.loss)  # adapted if in textbook form
        self.initialize(rng if rng is not None else np.random.default_rng(0))
        last_activation = getattr(self.layers[-1], "activation", None)
        # Fused output gradient (softmax + cross-entropy): decided once, not on every step.
        self.fused_output = last_activation is not None and self.loss.fused_activation == (
            self.registry.name_of("activations", last_activation)
        )
        # Bound methods collected once: a training step calls them thousands of times a second.
        self._forwards = tuple(layer.forward for layer in self.layers)
        self._output_backward = self.layers[-1].backward
        self._hidden_backwards = tuple(layer.backward for layer in reversed(self.layers[:-1]))

    def _build(self) -> list[int]:
        sizes = [self.input_size]
        parameters_before = False
        for layer in self.layers:
            sizes.append(layer.build(sizes[-1]))
            # dL/dx only matters to a layer with parameters somewhere before this one: the first dense layer
            # behind an input dropout skips its largest product, as the very first layer does.
            layer.needs_input_gradient = parameters_before
            parameters_before = parameters_before or bool(layer.parameter_shapes())
        return sizes

    def _allocate(self) -> tuple[FloatArray, FloatArray, list[dict[str, FloatArray]]]:
        total = sum(int(np.prod(shape)) for layer in self.layers for shape in layer.parameter_shapes().values())
        # Asked once: the memory layout is fixed for the life of the model.
        self._transposed_parameters = [_transposed_parameters(layer) for layer in self.layers]
        parameters = np.zeros(total, dtype=self.dtype)
        gradients = np.zeros(total, dtype=self.dtype)
        views = self._views_of(parameters)
        for layer, layer_parameters, layer_gradients in zip(self.layers, views, self._views_of(gradients), strict=True):
            layer.bind(layer_parameters, layer_gradients)
        return parameters, gradients, views

    def _views_of(self, flat: FloatArray) -> list[dict[str, FloatArray]]:
        """Each layer's named parameter arrays as views into ``flat``, laid out as the layer asks.

        A layer may keep a 2-D parameter transposed in memory (``transposed_parameters()``): its view is
        then the transpose of a row-major block, so the layer sees the usual shape either way.
        """
        views: list[dict[str, FloatArray]] = []
        offset = 0
        for layer, transposed in zip(self.layers, self._transposed_parameters, strict=True):
            layer_views: dict[str, FloatArray] = {}
            for name, shape in layer.parameter_shapes().items():
                size = int(np.prod(shape))
                block = flat[offset : offset + size]
                layer_views[name] = block.reshape(shape[::-1]).T if name in transposed else block.reshape(shape)
                offset += size
            views.append(layer_views)
        return views

    @property
    def _stores_transposed(self) -> bool:
        return any(self._transposed_parameters)

    def to_file_order(self, flat: FloatArray) -> FloatArray:
        """A parameter-shaped vector (optimizer state) in file order: each parameter row-major, in turn.

        That is the memory order too unless a layer keeps a parameter transposed.
        """
        if not self._stores_transposed:
            return flat
        return np.concatenate([view.ravel() for views in self._views_of(flat) for view in views.values()])

    def from_file_order(self, flat: FloatArray) -> FloatArray:
        """The inverse of :meth:`to_file_order`."""
        if not self._stores_transposed:
            return flat
        result = np.empty_like(flat)
        offset = 0
        for views in self._views_of(result):
            for view in views.values():
                view[...] = flat[offset : offset + view.size].reshape(view.shape)
                offset += view.size
        return result

    def initialize(self, rng: np.random.Generator) -> None:
        """Fresh weights for every layer, drawn from ``rng``."""
        for layer in self.layers:
            layer.initialize(rng)

    @property
    def parameter_count(self) -> int:
        return int(self.parameters.size)

    @property
    def output_size(self) -> int:
        return self.sizes[-1]

    def forward(self, x: FloatArray, training: bool = False) -> FloatArray:
        """The output for a batch. The array is a layer's buffer: copy it to keep it past the next call."""
        for forward in self._forwards:
            x = forward(x, training)
        return x

    @property
    def gradients(self) -> FloatArray:
        """dL/dparameters from the last backward pass, one flat vector; each layer's gradients are views into it."""
        if self._gradient_scale != 1.0:
            self._unfold_gradients()
        return self._gradients

    def backward(self, output: FloatArray, target: FloatArray, out: FloatArray) -> None:
        """Fill ``gradients`` with dL/dparameters for the batch whose ``forward`` gave ``output``.

        ``target`` is the one-hot (or regression) target; ``out`` is scratch of ``output``'s shape, which the
        pass overwrites (dL/d(output) first, then dL/dz of the output layer).
        """
        self._scaled_backward(output, target, out, 1.0)

    def _scaled_backward(self, output: FloatArray, target: FloatArray, out: FloatArray, scale: float) -> None:
        """:meth:`backward`, but the gradient buffer holds ``scale`` x dL/dparameters until it is read.

        The trainer's learning-rate fold: scaling the output delta (a batch x classes array) scales every
        gradient behind it for no extra call, so plain SGD's update is one subtraction. Reading
        :attr:`gradients` (or calling ``_unfold_gradients``) divides the scale out again.
        """
        self._gradient_scale = scale
        grad: FloatArray | None
        if self.fused_output:
            grad = self._output_backward(self._loss_fused_gradient(output, target, out, scale), True)
        else:
            grad = self._output_backward(self._loss_gradient(output, target, out, scale), False)
        for backward in self._hidden_backwards:
            grad = backward(grad, False)  # type: ignore[arg-type]  # only the first layer returns None

    def _unfold_gradients(self) -> None:
        """Make the gradient buffer (and so every layer's gradient views) hold the true dL/dparameters."""
        if self._gradient_scale == 0.0:  # a zero learning rate folded every gradient to 0: nothing to divide out
            self._gradients.fill(0.0)
        elif self._gradient_scale != 1.0:
            np.divide(self._gradients, self._gradient_scale, self._gradients)
        self._gradient_scale = 1.0

    def check_input(self, x: np.ndarray[Any, Any]) -> FloatArray:
        """``x`` as a float32 (n, input_size) array, or a clear error."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ConfigError(f"model {self} expects rows of {self.input_size} inputs, got shape {x.shape}")
        return np.ascontiguousarray(x)

    def predict_proba(self, x: np.ndarray[Any, Any]) -> FloatArray:
        """Outputs for any number of rows, in chunks; a new array."""
        from netkit.training.trainer import SINGLE_THREAD_BELOW, _blas_controller  # here: training imports this module

        x = self.check_input(x)
        rows = x.shape[0]
        result = np.empty((rows, self.output_size), dtype=self.dtype)
        size = max(1, -(-rows // max(1, -(-rows // PREDICT_CHUNK))))  # ceil(rows / ceil(rows / max))
        # The trainer's rule: products this small are not worth splitting, and a second BLAS thread on a
        # busy core makes them several times slower (bench/README.md, "Inference").
        threads: AbstractContextManager[Any] = (
            _blas_controller().limit(limits=1, user_api="blas")
            if size * self.parameter_count < SINGLE_THREAD_BELOW
            else nullcontext()
        )
        with threads:
            for start in range(0, rows, size):
                result[start : start + size] = self.forward(x[start : start + size])
        return result

    def predict(self, x: np.ndarray[Any, Any]) -> LabelArray:
        """The most likely class of each row."""
        labels: LabelArray = np.argmax(self.predict_proba(x), axis=1).astype(np.int64)
        return labels

    @property
    def layer_names(self) -> list[str]:
        """``dense_1``, ``dense_2``, ...: each layer's plugin name and its count among layers of that type."""
        names: list[str] = []
        seen: dict[str, int] = {}
        for layer in self.layers:
            kind = self.registry.name_of("layers", layer).replace("-", "_")
            seen[kind] = seen.get(kind, 0) + 1
            names.append(f"{kind}_{seen[kind]}")
        return names

    def activations(self, x: np.ndarray[Any, Any]) -> list[FloatArray]:
        """Every layer's output for the rows ``x`` in inference mode, one new array per layer."""
        outputs: list[FloatArray] = []
        layer_input = self.check_input(x)
        for forward in self._forwards:
            layer_input = forward(layer_input, False)
            outputs.append(layer_input.copy(order="C"))
        return outputs

    def backprop(self, x: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]) -> Backprop:
        """The loss on the rows ``x`` with classes ``labels`` and its true gradient for every parameter.

        Inference mode (deterministic), nothing scaled by a learning rate, nothing updated; the gradients are
        copies keyed like :attr:`layer_names`.
        """
        x = self.check_input(x)
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
            raise ConfigError(
                f"expected one whole-number label per row ({x.shape[0]}), got {labels.dtype} {labels.shape}"
            )
        target = one_hot(labels.astype(np.int64), self.output_size).astype(self.dtype, copy=False)
        output = self.forward(x, False)
        loss = float(self.loss.value(output, target))
        self.backward(output, target, np.empty_like(output))
        gradients = {
            name: {parameter: view.copy(order="C") for parameter, view in views.items()}
            for name, views in zip(self.layer_names, self._views_of(self.gradients), strict=True)
        }
        return Backprop(loss, gradients)

    def get_config(self) -> Config:
        return {
            "input_size": self.input_size,
            "layers": [self.registry.spec_of("layers", layer) for layer in self.layers],
            "loss": self.registry.spec_of("losses", self.loss),
        }

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        rng: np.random.Generator | None = None,
        registry: Registry | None = None,
    ) -> Sequential:
        try:
            return cls(config["input_size"], config["layers"], config.get("loss", "cross-entropy"), rng, registry)
        except KeyError as exc:
            raise ConfigError(f"model config lacks {exc.args[0]!r}") from None

    def __repr__(self) -> str:
        # Layers without parameters (dropout) change no size: they are named after the activations.
        names, extras = [], []
        sizes = [self.input_size]
        for layer, size in zip(self.layers, self.sizes[1:], strict=True):
            activation = getattr(layer, "activation", None)
            if not layer.parameter_shapes():
                extras.append(layer.describe())
                continue
            sizes.append(size)
            name = self.registry.name_of("activations", activation) if activation is not None else "?"
            if name not in names:
                names.append(name)
        return "-".join(map(str, sizes)) + f" ({', '.join(names + list(dict.fromkeys(extras)))})"
