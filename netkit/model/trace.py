"""``model.trace(x, label)``: one learning step with the real numbers, for learners to read.

The step runs on a copy of the model built from its plugins' textbook forms (the classes a learner reads,
never the fast forms' buffers): the forward pass layer by layer, the loss, the backward pass (the chain
rule, each gradient the true value), then one update and a fresh forward pass of the updated copy. The
model itself never changes. What comes back is a :class:`Trace` of plain arrays that the terminal, JSON, the
notebook and the page render as they are: none of them computes anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from netkit.data.dataset import one_hot
from netkit.errors import ConfigError
from netkit.model.layer import Layer, Shape
from netkit.model.network import Network
from netkit.model.trace_unit import UnitTrace, check_labels, resolve_unit, trace_unit
from netkit.protocols import Optimizer
from netkit.registry import Registry
from netkit.training.defaults import PLAIN_OPTIMIZER
from netkit.training.regularisation import regularised, weight_pairs
from netkit.types import FloatArray, LabelArray

Arrays = dict[str, FloatArray]


@attrs.frozen(eq=False)
class LayerTrace:
    """One layer in the step. Arrays keep the batch axis: ``x`` is (rows, *input_shape), ``a`` (rows, *output_shape).

    ``z`` and ``dl_dz`` exist for layers that offer their weighted sums (dense); ``dl_da`` is the gradient that
    came down from the layer above (from the loss, for the last layer) and ``dl_dx`` the one this layer sent down.
    ``gradients`` holds dL/dparameter by parameter name; ``parameters_before``/``parameters_after`` the values
    around the update.
    """

    name: str
    description: str
    input_shape: Shape
    output_shape: Shape
    x: FloatArray
    z: FloatArray | None
    a: FloatArray
    dl_da: FloatArray
    dl_dz: FloatArray | None
    dl_dx: FloatArray
    gradients: Arrays
    parameters_before: Arrays
    parameters_after: Arrays
    weight: str | None  # the name of the layer's weight matrix (its declared weights), if it has one
    bias: str | None  # the other parameter, when it holds one value per unit
    activation: str | None

    @property
    def dl_dw(self) -> FloatArray | None:
        return None if self.weight is None else self.gradients[self.weight]

    @property
    def dl_db(self) -> FloatArray | None:
        return None if self.bias is None else self.gradients[self.bias]

    @property
    def changes(self) -> Arrays:
        """What the update did to each parameter: after minus before."""
        return {name: self.parameters_after[name] - before for name, before in self.parameters_before.items()}

    @property
    def writes_sums(self) -> bool:
        """Whether each unit's z is a weighted sum of the inputs written out (z = x W + b, a dense layer)."""
        return self.z is not None and self.weight is not None and self.parameters_before[self.weight].ndim == 2

    def products(self) -> list[tuple[str, str, str]]:
        """The layer's formulas with the shapes that make them fit: ``(result, formula, shapes)``."""
        rows = self.x.shape[0]
        if not self.writes_sums:
            return [("a", f"{self.description}(x)", f"{_shape(self.x.shape)} → {_shape(self.a.shape)}")]
        assert self.weight is not None
        inputs, units = self.parameters_before[self.weight].shape
        f = self.activation or "f"
        bias = " + b" if self.bias is not None else ""
        return [
            (
                "z",
                f"x · W{bias}",
                f"{_shape((rows, inputs))} · {_shape((inputs, units))}{bias and ' + ' + _shape((units,))}",
            ),
            ("a", f"{f}(z)", f"{_shape((rows, units))}"),
            ("dL/dz", f"dL/da · ∂a/∂z (through {f})", f"{_shape((rows, units))}"),
            ("dL/dW", "xᵀ · dL/dz", f"{_shape((inputs, rows))} · {_shape((rows, units))} → {_shape((inputs, units))}"),
            *([("dL/db", "dL/dz summed over rows", f"→ {_shape((units,))}")] if self.bias is not None else []),
            ("dL/dx", "dL/dz · Wᵀ", f"{_shape((rows, units))} · {_shape((units, inputs))} → {_shape((rows, inputs))}"),
        ]


@attrs.frozen(eq=False)
class Trace:
    """One learning step on ``rows`` examples: every layer (input to output), the loss, one update on a copy."""

    layers: tuple[LayerTrace, ...]
    labels: LabelArray
    loss: str
    loss_before: float
    loss_after: float
    probabilities_before: FloatArray
    probabilities_after: FloatArray
    optimizer: str
    learning_rate: float
    unit: UnitTrace | None

    @property
    def prediction_before(self) -> LabelArray:
        return _argmax(self.probabilities_before)

    @property
    def prediction_after(self) -> LabelArray:
        return _argmax(self.probabilities_after)

    def layer(self, name: str) -> LayerTrace:
        return next(layer for layer in self.layers if layer.name == name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``netkit trace --json``): arrays as nested lists with their batch axis; the
        predictions and probabilities of a single example as a digit and a list, of several as lists."""
        single = len(self.labels) == 1

        def per_row(values: np.ndarray[Any, Any]) -> Any:
            return values[0].tolist() if single else values.tolist()

        return {
            "rows": len(self.labels),
            "label": per_row(self.labels),
            "loss": self.loss,
            "layers": [_layer_dict(layer) for layer in self.layers],
            "loss_before": self.loss_before,
            "loss_after": self.loss_after,
            "prediction_before": per_row(self.prediction_before),
            "prediction_after": per_row(self.prediction_after),
            "probabilities_before": per_row(self.probabilities_before),
            "probabilities_after": per_row(self.probabilities_after),
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            **({"unit": self.unit.to_dict()} if self.unit is not None else {}),
        }

    def _repr_html_(self) -> str:
        from netkit.model.trace_html import trace_html  # only notebooks need it

        html: str = trace_html(self)
        return html


def trace_step(
    model: Network,
    x: np.ndarray[Any, Any],
    labels: Any,
    unit: Any = None,
    learning_rate: float | None = None,
    optimizer: Optimizer | None = None,
) -> Trace:
    """Trace one step of ``model`` on ``x`` with class ``labels``; see :meth:`Network.trace`.

    The update is plain gradient descent at ``learning_rate`` when one is given, else ``optimizer`` (the
    model's, with its state, weight decay and max-norm) on the copy, else plain gradient descent at its
    default rate.
    """
    rows = model.check_input(x)
    labels = check_labels(model, labels, len(rows))
    chosen = resolve_unit(model, unit) if unit is not None else None
    registry = model.registry.textbook_form()
    copy = Network(
        model.input_shape,
        model.get_config()["layers"],
        model.get_config()["loss"],
        registry=registry,
        dtype=model.dtype.type,
    )
    copy.parameters[...] = copy.from_file_order(model.to_file_order(model.parameters))
    step, described, rate = _update(model, copy, learning_rate, optimizer)
    names = model.layer_names
    before = [{key: view.copy() for key, view in views.items()} for views in copy.parameter_views]
    target = one_hot(labels, model.output_size).astype(model.dtype, copy=False)
    inputs, sums, outputs = [], [], []
    layer_input = rows
    for layer in copy.layers:
        inputs.append(layer_input)
        sums.append(layer.weighted_sum(layer_input) if layer.weighted_sums else None)
        layer_input = layer.forward(layer_input, False)
        outputs.append(layer_input)
    loss_before = float(copy.loss.value(layer_input, target))
    grad = copy.loss.gradient(layer_input, target)
    backward: list[tuple[FloatArray, FloatArray | None, FloatArray, Arrays]] = []
    for layer, z, a in zip(reversed(copy.layers), reversed(sums), reversed(outputs), strict=True):
        dz = layer.activation.backward(z, a, grad) if z is not None else None
        dx = layer.backward(grad)
        backward.append((grad, dz, dx, {key: array.copy() for key, array in layer.gradients.items()}))
        grad = dx
    backward.reverse()
    step()
    probabilities_after = copy.forward(rows, False).copy()
    loss_after = float(copy.loss.value(probabilities_after, target))
    layers = tuple(
        _layer_trace(registry, name, layer, shapes, x_in, z, a, grads, params, after)
        for name, layer, shapes, x_in, z, a, grads, params, after in zip(
            names,
            copy.layers,
            zip(copy.shapes, copy.shapes[1:], strict=False),
            inputs,
            sums,
            outputs,
            backward,
            before,
            copy.parameter_views,
            strict=True,
        )
    )
    trace = Trace(
        layers,
        labels,
        registry.name_of("losses", copy.loss),
        loss_before,
        loss_after,
        outputs[-1].copy(),
        probabilities_after,
        described,
        rate,
        None,
    )
    if chosen is None:
        return trace
    return attrs.evolve(trace, unit=trace_unit(trace.layer(chosen[0]), chosen[1], copy.layers[names.index(chosen[0])]))


def _update(
    model: Network, copy: Network, learning_rate: float | None, optimizer: Optimizer | None
) -> tuple[Any, str, float]:
    """The copy's update (a callable), how it is described, and its learning rate."""
    registry = copy.registry
    if learning_rate is not None or optimizer is None:
        spec: Mapping[str, Any] = {"type": PLAIN_OPTIMIZER}
        if learning_rate is not None:
            if not (isinstance(learning_rate, int | float) and math.isfinite(learning_rate) and learning_rate > 0):
                raise ConfigError(f"learning_rate must be a positive number. Received: {learning_rate!r}")
            spec = {**spec, "learning_rate": float(learning_rate)}
        plain: Optimizer = registry.create("optimizers", spec)
        plain.bind(copy.parameters, copy.gradients)
        return plain.step, "plain gradient descent (p ← p - lr·g)", float(plain.learning_rate)
    twin: Optimizer = registry.create("optimizers", model.registry.spec_of("optimizers", optimizer))
    twin.bind(copy.parameters, copy.gradients)
    state = {
        key: copy.from_file_order(model.to_file_order(value))
        if isinstance(value, np.ndarray) and value.shape == model.parameters.shape
        else value
        for key, value in optimizer.state().items()
    }
    if state:
        twin.load_state(state)
    step = regularised(twin.step, weight_pairs(copy.layers), twin.weight_decay, twin.max_norm)
    name = registry.name_of("optimizers", twin)
    return step, f"the model's optimizer ({name})", float(twin.learning_rate)


def _layer_trace(
    registry: Registry,
    name: str,
    layer: Layer,
    shapes: tuple[Shape, Shape],
    x: FloatArray,
    z: FloatArray | None,
    a: FloatArray,
    backward: tuple[FloatArray, FloatArray | None, FloatArray, Arrays],
    before: Arrays,
    after: Arrays,
) -> LayerTrace:
    dl_da, dl_dz, dl_dx, gradients = backward
    weight = layer.weights[0] if len(layer.weights) == 1 else None
    others = [key for key in before if key not in layer.weights]
    bias = others[0] if len(others) == 1 else None  # dense: one value per unit; conv2d: one per filter
    activation = layer.activation
    return LayerTrace(
        name=name,
        description=layer.describe(),
        input_shape=shapes[0],
        output_shape=shapes[1],
        x=x.copy(),
        z=None if z is None else z.copy(),
        a=a.copy(),
        dl_da=dl_da.copy(),
        dl_dz=dl_dz,
        dl_dx=np.array(dl_dx),
        gradients=gradients,
        parameters_before=before,
        parameters_after={key: view.copy() for key, view in after.items()},
        weight=weight,
        bias=bias,
        activation=None if activation is None else registry.name_of("activations", activation),
    )


def _argmax(probabilities: FloatArray) -> LabelArray:
    labels: LabelArray = np.argmax(probabilities, axis=1).astype(np.int64)
    return labels


def _shape(shape: tuple[int, ...]) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"


def _layer_dict(layer: LayerTrace) -> dict[str, Any]:
    def listed(array: FloatArray | None) -> Any:
        return None if array is None else array.tolist()

    return {
        "name": layer.name,
        "description": layer.description,
        "input_shape": list(layer.input_shape),
        "output_shape": list(layer.output_shape),
        "x": listed(layer.x),
        "z": listed(layer.z),
        "a": listed(layer.a),
        "dL_da": listed(layer.dl_da),
        "dL_dz": listed(layer.dl_dz),
        "dL_dW": listed(layer.dl_dw),
        "dL_db": listed(layer.dl_db),
        "dL_dx": listed(layer.dl_dx),
        "gradients": {key: value.tolist() for key, value in layer.gradients.items()},
        "changes": {key: value.tolist() for key, value in layer.changes.items()},
        "formulas": [{"result": r, "formula": f, "shapes": s} for r, f, s in layer.products()],
    }
