"""One unit of a traced step written out: its weighted sum with the numbers, its activation, its backward line.

For a unit j of a layer whose weights are an (inputs, units) matrix W and whose weighted sums are offered
(a dense layer): ``z_j = W[0, j]·x_0 + W[1, j]·x_1 + … + b_j``, the largest contributions first;
``a_j = f(z_j)``; and the chain rule ``dL/dz_j = Σ_k dL/da_k · ∂a_k/∂z_j``, which for an elementwise activation
is the single term ``dL/da_j · f'(z_j)`` (softmax mixes every output into every z). The numbers come from the
trace, and ∂a_k/∂z_j from the layer's own activation, asked for dL/dz with dL/da = 1 at unit k.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from netkit.errors import ConfigError
from netkit.model.layer import Layer
from netkit.model.network import Network
from netkit.types import FloatArray, LabelArray

if TYPE_CHECKING:
    from netkit.model.trace import LayerTrace

SHOWN_TERMS = 3


def unit_layers(model: Network) -> list[str]:
    """The names of the layers whose units have weighted sums to write out (dense and conv2d layers)."""
    return [
        name
        for name, layer in zip(model.layer_names, model.layers, strict=True)
        if layer.weighted_sums and len(layer.weights) == 1
    ]


@attrs.frozen(eq=False)
class UnitTrace:
    """Unit ``unit`` of layer ``layer`` for the first example of the step (row 0)."""

    layer: str
    unit: int
    activation: str
    inputs: FloatArray  # x, what the layer got
    weights: FloatArray  # W[:, unit], the unit's incoming weights before the update
    bias: float
    z: float  # the layer's own z for this unit
    a: float
    dl_da: FloatArray  # the layer's dL/da, every unit
    da_dz: FloatArray  # ∂a_k/∂z_unit for every unit k
    dl_dz: float  # the layer's own dL/dz for this unit
    weight_gradient: FloatArray  # dL/dW[:, unit]
    weight_change: FloatArray  # W[:, unit] after the update minus before
    bias_change: float

    @property
    def products(self) -> FloatArray:
        """Each input's contribution w_i·x_i to z."""
        return self.weights.astype(np.float64) * self.inputs.astype(np.float64)

    @property
    def order(self) -> np.ndarray[Any, Any]:
        """Input indices, the largest contribution (by size) first."""
        return np.argsort(-np.abs(self.products), kind="stable")

    @property
    def written_sum(self) -> float:
        """Σ w_i·x_i + b, added up term by term: equals :attr:`z` (to rounding)."""
        return float(self.products.sum() + self.bias)

    @property
    def elementwise(self) -> bool:
        """Whether only this unit's own a depends on its z (every activation but softmax)."""
        others = np.delete(self.da_dz, self.unit)
        return not np.any(others)

    @property
    def chain_terms(self) -> list[tuple[int, float, float]]:
        """``(k, dL/da_k, ∂a_k/∂z)`` for the outputs k through which this unit's z moves the loss (and k = the
        unit itself), the largest product first."""
        ks = [k for k in range(len(self.da_dz)) if self.dl_da[k] * self.da_dz[k] != 0 or k == self.unit]
        ks.sort(key=lambda k: -abs(float(self.dl_da[k] * self.da_dz[k])))
        return [(k, float(self.dl_da[k]), float(self.da_dz[k])) for k in ks]

    def lines(self, shown: int = SHOWN_TERMS) -> list[str]:
        """The unit written out as text: the sum with the ``shown`` largest terms and the rest added up."""
        order = self.order
        products = self.products
        top, rest = order[:shown], order[shown:]
        terms = " + ".join(f"({_n(self.weights[i])})({_n(self.inputs[i])})" for i in top)
        summed = [float(products[i]) for i in top]
        if len(rest):
            terms += f" + … ({len(rest)} more)"
            summed.append(float(products[rest].sum()))
        f = self.activation
        lines = [
            f"{self.layer} unit {self.unit}:  z = Σ wᵢ·xᵢ + b over {len(order)} inputs",
            f"  z = {terms} " + (f"- {_n(-self.bias)}" if self.bias < 0 else f"+ {_n(self.bias)}"),
            f"    = {_signed_sum([*summed, self.bias])} = {_n(self.written_sum)}",
            f"  a = {f}(z) = {f}({_n(self.z)}) = {_n(self.a)}",
        ]
        chain = self.chain_terms
        if self.elementwise:
            derivative = float(self.da_dz[self.unit])
            lines.append(
                f"  dL/dz = dL/da · {f}'(z) = {_n(self.dl_da[self.unit])} · {_n(derivative)} = {_n(self.dl_dz)}"
            )
        else:
            head = " + ".join(f"({_n(g)})({_n(d)})" for _, g, d in chain[:shown])
            more = f" + … ({len(chain) - shown} more)" if len(chain) > shown else ""
            lines.append(f"  dL/dz = Σₖ dL/daₖ · ∂aₖ/∂z = {head}{more} = {_n(self.dl_dz)}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict[str, Any]:
        order = self.order
        return {
            "layer": self.layer,
            "unit": self.unit,
            "activation": self.activation,
            "terms": [{"input": int(i), "weight": float(self.weights[i]), "x": float(self.inputs[i])} for i in order],
            "bias": self.bias,
            "written_sum": self.written_sum,
            "z": self.z,
            "a": self.a,
            "elementwise": self.elementwise,
            "chain": [{"output": k, "dL_da": g, "da_dz": d} for k, g, d in self.chain_terms],
            "dL_dz": self.dl_dz,
            "weight_gradient": self.weight_gradient.tolist(),
            "weight_change": self.weight_change.tolist(),
            "bias_change": self.bias_change,
            "lines": self.lines(),
        }


def check_labels(model: Network, labels: Any, rows: int) -> LabelArray:
    """``labels`` (a class or one per row) as an int64 array, or a clear error for one outside the classes."""
    array = np.atleast_1d(np.asarray(labels))
    if array.shape == (1,) and rows > 1:
        array = np.repeat(array, rows)
    if array.shape != (rows,) or not np.issubdtype(array.dtype, np.integer):
        raise ConfigError(f"expected one whole-number label per example ({rows}), got {labels!r}")
    classes = model.output_size
    outside = array[(array < 0) | (array >= classes)]
    if outside.size:
        raise ConfigError(f"label {int(outside[0])} is not a class of this model: its classes are 0..{classes - 1}")
    return array.astype(np.int64)


def resolve_unit(model: Network, unit: Any) -> tuple[str, int]:
    """``"dense_2:5"``, ``"2:5"``, ``("dense_2", 5)`` or ``(2, 5)`` as (layer name, unit index), or a clear error.

    A layer is named as in :attr:`Network.layer_names` or numbered from 1 among the layers whose units have
    weighted sums (``1`` is the first dense layer); units count from 0.
    """
    if isinstance(unit, str):
        layer_part, colon, unit_part = unit.partition(":")
        if not colon:
            raise ConfigError(f"a unit is LAYER:UNIT (e.g. dense_2:5 or 2:5), not {unit!r}")
        unit = (int(layer_part) if layer_part.strip().isdigit() else layer_part.strip(), unit_part.strip())
    if not isinstance(unit, tuple | list) or len(unit) != 2:
        raise ConfigError(f"a unit is (layer, unit), e.g. ('dense_2', 5), not {unit!r}")
    layer_key, index = unit
    candidates = unit_layers(model)
    if isinstance(layer_key, int | np.integer) and not isinstance(layer_key, bool):
        if not 1 <= layer_key <= len(candidates):
            raise ConfigError(
                f"no layer {layer_key}: the layers with weighted sums are 1..{len(candidates)} "
                f"({', '.join(candidates)})"
            )
        name = candidates[int(layer_key) - 1]
    elif layer_key in candidates:
        name = str(layer_key)
    else:
        raise ConfigError(f"no layer {layer_key!r} with weighted sums; choose one of {', '.join(candidates)}")
    units = math.prod(model.shapes[model.layer_names.index(name) + 1])
    try:
        number = int(str(index), 10)
    except ValueError:
        raise ConfigError(f"a unit is a whole number, not {index!r}") from None
    if not 0 <= number < units:
        raise ConfigError(f"{name} has units 0..{units - 1}, not {number}")
    return name, number


def trace_unit(traced: LayerTrace, unit: int, layer: Layer) -> UnitTrace:
    """Unit ``unit`` (a flat index over the layer's output) of a traced layer written out; ``layer`` is the
    textbook layer the trace ran, which says which inputs and weights make the unit's sum (``unit_terms``)."""
    assert traced.z is not None and traced.dl_dz is not None and traced.weight is not None
    z_row, a_row = traced.z[:1], traced.a[:1]
    units = math.prod(z_row.shape[1:])
    if z_row.ndim == 2:
        # Column k of the activation's Jacobian, row `unit`: ∂a_k/∂z_unit, from its own backward with dL/da = e_k.
        da_dz = np.array(
            [
                float(layer.activation.backward(z_row, a_row, np.eye(units, dtype=z_row.dtype)[k : k + 1])[0, unit])
                for k in range(units)
            ]
        )
    else:  # an activation over an image is elementwise: its Jacobian is diagonal, one backward gives the row
        basis = np.zeros_like(z_row)
        basis.reshape(-1)[unit] = 1
        da_dz = layer.activation.backward(z_row, a_row, basis).reshape(-1).astype(np.float64)
    inputs, weight_index, bias_index = layer.unit_terms(traced.x[0], unit)
    weight = traced.weight

    def of(arrays: dict[str, FloatArray], name: str | None, index: Any) -> Any:
        return arrays[name][index] if name is not None else 0.0

    return UnitTrace(
        layer=traced.name,
        unit=unit,
        activation=traced.activation or "f",
        inputs=np.array(inputs, copy=True).reshape(-1),
        weights=np.array(traced.parameters_before[weight][weight_index]).reshape(-1),
        bias=float(of(traced.parameters_before, traced.bias, bias_index)),
        z=float(traced.z[0].reshape(-1)[unit]),
        a=float(traced.a[0].reshape(-1)[unit]),
        dl_da=traced.dl_da[0].reshape(-1).copy(),
        da_dz=da_dz,
        dl_dz=float(traced.dl_dz[0].reshape(-1)[unit]),
        weight_gradient=np.array(traced.gradients[weight][weight_index]).reshape(-1),
        weight_change=np.array(traced.changes[weight][weight_index]).reshape(-1),
        bias_change=float(of(traced.changes, traced.bias, bias_index)),
    )


def _n(value: Any) -> str:
    """A number as a learner reads it: four significant figures, no minus zero."""
    number = float(value)
    return "0" if number == 0 else f"{number:.4g}"


def _signed_sum(values: list[float]) -> str:
    """``1.2 - 0.3 + 0.05``: each term after the first with its own sign."""
    text = _n(values[0])
    for value in values[1:]:
        text += f" - {_n(-value)}" if value < 0 else f" + {_n(value)}"
    return text
