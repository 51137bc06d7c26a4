"""``Network``: layers in a row, a loss at the end, and all parameters in one flat float32 vector.

Each layer's parameters are views into ``parameters`` (and its gradients into ``gradients``), so optimisers
update every layer with a few NumPy calls, gradient checks perturb one vector, and files store named views.
Shapes are tuples per sample (the batch axis left out) and are checked when the network is assembled.
:class:`netkit.Sequential` is this network with its training run (``fit``, ``evaluate``, history).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from netkit.data.dataset import one_hot
from netkit.data.pixels import warn_outside_unit_range
from netkit.errors import ConfigError, PluginError
from netkit.model.assembly import assemble, config_input_shape, config_layers
from netkit.model.fast import FastLayer, FastLoss, loss_gradient_kernel
from netkit.model.inference import predict_in_chunks
from netkit.model.layer import Flatten, Layer, Shape, shape_of, shape_text
from netkit.protocols import Loss
from netkit.registry import Registry, default_registry
from netkit.types import Config, FloatArray, LabelArray

if TYPE_CHECKING:
    from netkit.model.trace import Trace


Forward = Callable[[FloatArray, bool], FloatArray]
Backward = Callable[[FloatArray, bool, bool], "FloatArray | None"]  # (grad, dz_given, input_gradient) -> dL/dx


class Backprop(NamedTuple):
    """One batch's loss and true gradients dL/dparameter, keyed by layer name then parameter name (copies)."""

    loss: float
    gradients: dict[str, dict[str, FloatArray]]


class Network:
    """A feed-forward network: ``Network((1, 28, 28), ["dense:units=16", ...], "cross-entropy")``.

    ``input_shape`` is one sample's shape (a whole number for flat rows). Layers and the loss may be given
    as plugin instances or as specs for the registry; a :class:`Flatten` goes in wherever a layer that takes
    flat input follows one that gives more axes. Parameters are initialised from ``rng`` (a
    ``numpy.random.Generator``; default seed 0) at assembly time. ``dtype`` is float32; float64 exists for
    finite-difference gradient checks.
    """

    def __init__(
        self,
        input_shape: int | Sequence[int],
        layers: Sequence[Layer | str | Mapping[str, Any]],
        loss: Loss | str | Mapping[str, Any] = "cross-entropy",
        rng: np.random.Generator | None = None,
        registry: Registry | None = None,
        dtype: type[np.floating[Any]] = np.float32,
    ) -> None:
        self.registry = registry or default_registry()
        self.input_shape: Shape = shape_of(input_shape, "input_shape")
        if not layers:
            raise ConfigError("a model needs at least one layer")
        built = [self.registry.create("layers", spec) if isinstance(spec, str | Mapping) else spec for spec in layers]
        self.loss: Loss = self.registry.create("losses", loss) if isinstance(loss, str | Mapping) else loss
        self.dtype = np.dtype(dtype)
        with self.registry.active():  # a layer names its nested plugins through the registry that built it
            self.layers, self.shapes = assemble(self.input_shape, built)
        self.parameters, self.gradients, self.parameter_views = self._allocate()
        self.initialize(rng if rng is not None else np.random.default_rng(0))
        self._prepare_passes()
        self._twin: Network | None = None  # predict_proba's second thread's network, made on first need

    @property
    def input_size(self) -> int:
        """Inputs per sample: the product of :attr:`input_shape`."""
        return math.prod(self.input_shape)

    @property
    def sizes(self) -> list[int]:
        """Values per sample entering the first layer and leaving each layer."""
        return [math.prod(shape) for shape in self.shapes]

    def _allocate(self) -> tuple[FloatArray, FloatArray, list[dict[str, FloatArray]]]:
        total = sum(math.prod(shape) for layer in self.layers for shape in layer.parameter_shapes().values())
        # Asked once: the memory layout is fixed for the life of the model.
        self._transposed_parameters = [
            layer.transposed_parameters() if isinstance(layer, FastLayer) else frozenset() for layer in self.layers
        ]
        parameters = np.zeros(total, dtype=self.dtype)
        gradients = np.zeros(total, dtype=self.dtype)
        views = self._views_of(parameters)
        for layer, layer_parameters, layer_gradients in zip(self.layers, views, self._views_of(gradients), strict=True):
            layer.bind(layer_parameters, layer_gradients)
        return parameters, gradients, views

    def _views_of(self, flat: FloatArray) -> list[dict[str, FloatArray]]:
        """Each layer's named parameter arrays as views into ``flat``, laid out as the layer asks.

        A fast layer may keep a 2-D parameter transposed in memory: its view is then the transpose of a
        row-major block, so the layer sees the usual shape either way.
        """
        views: list[dict[str, FloatArray]] = []
        offset = 0
        for layer, transposed in zip(self.layers, self._transposed_parameters, strict=True):
            layer_views: dict[str, FloatArray] = {}
            for name, shape in layer.parameter_shapes().items():
                size = math.prod(shape)
                block = flat[offset : offset + size]
                layer_views[name] = block.reshape(shape[::-1]).T if name in transposed else block.reshape(shape)
                offset += size
            views.append(layer_views)
        return views

    def _prepare_passes(self) -> None:
        """The forward and backward calls of every layer, chosen once: a training step makes thousands."""
        self._forwards: list[Forward] = []
        backwards: list[tuple[Backward, bool]] = []
        parameters_before = False
        for layer in self.layers:
            # dL/dx only matters to a layer with parameters somewhere below: the first dense layer (and one
            # behind an input dropout) skips its largest product.
            input_gradient = parameters_before
            parameters_before = parameters_before or bool(layer.parameter_shapes())
            if isinstance(layer, FastLayer):
                self._forwards.append(layer.fast_forward)
                backwards.append((layer.fast_backward, input_gradient))
            else:
                self._forwards.append(layer.forward)
                backwards.append((_TextbookBackward(layer), input_gradient))
        self._loss_gradient = loss_gradient_kernel(self.loss)
        # Fused output gradient (softmax + cross-entropy): decided once, not on every step.
        last = self.layers[-1]
        self._fused_gradient = None
        loss = self.loss
        if isinstance(loss, FastLoss) and isinstance(last, FastLayer) and last.activation is not None:
            fuses = loss.fused_activation == self.registry.name_of("activations", last.activation)
            self._fused_gradient = loss.fused_gradient_into if fuses else None
        self._output_backward = backwards[-1]
        # Layers below the first one with parameters need no backward pass: nothing there learns.
        first = next((i for i, layer in enumerate(self.layers) if layer.parameter_shapes()), len(self.layers) - 1)
        self._hidden_backwards = tuple(reversed(backwards[min(first, len(self.layers) - 1) : -1]))

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
        """Fresh parameters for every layer, drawn from ``rng``."""
        for layer in self.layers:
            layer.initialize(rng)

    @property
    def parameter_count(self) -> int:
        return int(self.parameters.size)

    @property
    def output_shape(self) -> Shape:
        return self.shapes[-1]

    @property
    def output_size(self) -> int:
        return math.prod(self.output_shape)

    def forward(self, x: FloatArray, training: bool = False) -> FloatArray:
        """The output for a batch shaped (rows, *input_shape). The array may be a layer's buffer: copy it to keep
        it past the next call."""
        for forward in self._forwards:
            x = forward(x, training)
        return x

    def _backward_into(self, output: FloatArray, target: FloatArray, scratch: FloatArray) -> None:
        """Fill :attr:`gradients` with dL/dparameters for the batch whose ``forward`` gave ``output``.

        ``target`` is the one-hot (or regression) target; ``scratch`` is an array of ``output``'s shape that the
        pass overwrites (the trainer's, so that a step allocates nothing).
        """
        backward, input_gradient = self._output_backward
        if self._fused_gradient is not None:
            grad = backward(self._fused_gradient(output, target, scratch), True, input_gradient)
        else:
            grad = backward(self._loss_gradient(output, target, scratch), False, input_gradient)
        for backward, input_gradient in self._hidden_backwards:
            grad = backward(grad, False, input_gradient)  # type: ignore[arg-type]  # only the first gives None

    def check_input(self, x: np.ndarray[Any, Any]) -> FloatArray:
        """``x`` as a (rows, *input_shape) float array: rows may come flat or shaped, or one sample alone."""
        try:
            x = np.asarray(x, dtype=self.dtype)
        except (TypeError, ValueError):
            raise ConfigError(f"model {self} expects numbers, got {type(x).__name__}") from None
        if x.ndim >= 2 and math.prod(x.shape[1:]) == self.input_size:
            return np.ascontiguousarray(x.reshape(len(x), *self.input_shape))  # rows, flat or shaped
        if x.size == self.input_size and x.ndim >= 1:
            return np.ascontiguousarray(x.reshape(1, *self.input_shape))  # one sample
        shape = f" (each sample {self.input_shape})" if len(self.input_shape) > 1 else ""
        raise ConfigError(f"model {self} expects rows of {self.input_size} inputs{shape}, got shape {x.shape}")

    def predict_proba(self, x: np.ndarray[Any, Any], *, warn_range: bool = True) -> FloatArray:
        """Outputs for any number of rows, in chunks; a new array. Rows outside [0, 1] (raw 0..255 pixels)
        raise an :class:`~netkit.errors.InputRangeWarning` unless ``warn_range`` is false."""
        rows = self.check_input(x)
        return predict_in_chunks(self, rows, warn_outside_unit_range if warn_range else None)

    def _predict_twin(self, with_parameters: bool = True) -> Network | None:
        """A network like this one with its own layers (for a second predicting thread), holding this one's
        current parameters unless ``with_parameters`` is false; None when its layers cannot be rebuilt from
        their config (plugins given as unregistered instances)."""
        twin = self._twin
        if twin is None:
            try:
                layers = [self.registry.spec_of("layers", layer) for layer in self.layers]
            except PluginError:
                return None
            twin = Network(self.input_shape, layers, self.loss, registry=self.registry, dtype=self.dtype.type)
            self._twin = twin
        if with_parameters:
            np.copyto(twin.parameters, self.parameters)
        return twin

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

        Inference mode (deterministic), nothing updated; the gradients are copies keyed like :attr:`layer_names`.
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
        self._backward_into(output, target, np.empty_like(output))
        gradients = {
            name: {parameter: view.copy(order="C") for parameter, view in views.items()}
            for name, views in zip(self.layer_names, self._views_of(self.gradients), strict=True)
            if views
        }
        return Backprop(loss, gradients)

    def trace(self, x: np.ndarray[Any, Any], label: Any, unit: Any = None, learning_rate: float | None = None) -> Trace:
        """One learning step on ``x`` (one example, or a few rows) with class ``label``, every number kept.

        Runs the plugins' textbook forms on a copy: per layer the input, z, the activation and the gradients
        dL/da, dL/dz, dL/dW, dL/db, dL/dx; the loss; one update of the copy (plain gradient descent at
        ``learning_rate``, or at its default rate) and the loss and probabilities after it. ``unit``
        (``"dense_2:5"`` or ``("dense_2", 5)``; a layer may be numbered from 1 among the dense layers) adds
        that unit's sum written out for the first row. This model never changes.
        """
        from netkit.model.trace import trace_step  # the trace builds networks: imported when used

        return trace_step(self, x, label, unit, learning_rate)

    def get_config(self) -> Config:
        return {
            "input_shape": list(self.input_shape),
            "layers": [self.registry.spec_of("layers", layer) for layer in self.layers],
            "loss": self.registry.spec_of("losses", self.loss),
        }

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        rng: np.random.Generator | None = None,
        registry: Registry | None = None,
    ) -> Network:
        return cls(
            config_input_shape(config), config_layers(config), config.get("loss", "cross-entropy"), rng, registry
        )

    def __repr__(self) -> str:
        """``784-16-16-10 (sigmoid, softmax)``; a net that works on images first names its input shape and its
        image layers, then the dense sizes: ``1x28x28 conv6@5x5(same) pool2 conv16@5x5 pool2 120-84-10 (relu,
        softmax)``. Layers that keep the shape and hold no parameters (dropout) are listed after the activations.
        """

        def on_images(layer: Layer, before: Shape, after: Shape) -> bool:  # a layer that makes the image's shape
            return (
                len(before) > 1 and not isinstance(layer, Flatten) and bool(layer.parameter_shapes() or before != after)
            )

        steps = list(zip(self.layers, self.shapes[:-1], self.shapes[1:], strict=True))
        image_layers = [layer.brief() for layer, before, after in steps if on_images(layer, before, after)]
        words = [shape_text(self.input_shape), *image_layers] if image_layers else []
        sizes = [] if image_layers else [self.input_size]
        names: list[str] = []
        extras: list[str] = []
        for layer, before, after in steps:
            if not (image_layers and on_images(layer, before, after)):
                if not layer.parameter_shapes():
                    if not isinstance(layer, Flatten):
                        extras.append(layer.describe())
                    continue
                sizes.append(math.prod(after))
            name: str | None = None
            if layer.activation is not None:  # named by this network's registry, which may hold a caller's plugin
                name = self.registry.name_of("activations", layer.activation)
            elif layer.parameter_shapes():
                name = layer.describe()
            if name is not None and name not in names:
                names.append(name)
        if sizes:
            words.append("-".join(map(str, sizes)))
        return " ".join(words) + f" ({', '.join(names + list(dict.fromkeys(extras)))})"


class _TextbookBackward:
    """A textbook layer's backward called as the network calls a fast one: (grad, dz_given, input_gradient)."""

    def __init__(self, layer: Layer) -> None:
        self.backward = layer.backward

    def __call__(self, grad: FloatArray, dz_given: bool, input_gradient: bool) -> FloatArray | None:
        return self.backward(grad)
