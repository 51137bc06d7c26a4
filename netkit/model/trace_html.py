"""A :class:`netkit.model.trace.Trace` as HTML for notebooks: a collapsible section per layer, each array a
picture in the shared blue-orange scale, the chosen unit's sum as a formula. It renders; it computes nothing."""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from netkit.pictures.colours import diverging_rgb, normalise, robust_limit

if TYPE_CHECKING:
    from netkit.model.trace import LayerTrace, Trace

# Pixels per array entry, and the widest picture drawn (wider arrays are drawn one pixel per entry).
CELL = 6
WIDEST = 480


def trace_html(trace: Trace) -> str:
    first = 0
    predicted = [int(p) for p in trace.prediction_before]
    after = [int(p) for p in trace.prediction_after]
    head = (
        f"<p><b>One learning step</b> on {len(trace.labels)} example(s), label {_list(trace.labels)}: "
        f"loss ({html.escape(trace.loss)}) {trace.loss_before:.5g} → {trace.loss_after:.5g}; "
        f"prediction {_list(predicted)} → {_list(after)}; update: {html.escape(trace.optimizer)}, "
        f"learning rate {trace.learning_rate:g}.</p>"
    )
    probabilities = (
        "<table><tr><th>class</th>"
        + "".join(f"<th>{k}</th>" for k in range(trace.probabilities_before.shape[1]))
        + "</tr>"
        + "".join(
            f"<tr><td>{name}</td>" + "".join(f"<td>{p:.3f}</td>" for p in values[first]) + "</tr>"
            for name, values in (("before", trace.probabilities_before), ("after", trace.probabilities_after))
        )
        + "</table>"
    )
    unit = ""
    if trace.unit is not None:
        unit = "<pre class='netkit-unit'>" + html.escape(str(trace.unit)) + "</pre>"
    layers = "".join(_layer_html(layer) for layer in trace.layers)
    note = (
        "<p style='font-size:smaller'>Colours: blue negative, near-white zero, orange positive, each array "
        "scaled to the 99th percentile of its magnitudes (the number beside it).</p>"
    )
    return f"<div class='netkit-trace'>{head}{probabilities}{unit}{layers}{note}</div>"


def _layer_html(layer: LayerTrace) -> str:
    formulas = "".join(
        f"<tr><td>{html.escape(result)}</td><td>= {html.escape(formula)}</td><td>{html.escape(shapes)}</td></tr>"
        for result, formula, shapes in layer.products()
    )
    arrays: list[tuple[str, Any]] = [("x (input)", layer.x), ("z", layer.z), ("a", layer.a)]
    arrays += [("dL/da", layer.dl_da), ("dL/dz", layer.dl_dz)]
    arrays += [(f"dL/d{name}", gradient) for name, gradient in layer.gradients.items()]
    arrays += [(f"change in {name}", change) for name, change in layer.changes.items()]
    arrays += [("dL/dx", layer.dl_dx)]
    pictures = "".join(_array_html(name, values) for name, values in arrays if values is not None)
    shapes = f"{layer.input_shape} → {layer.output_shape}"
    return (
        f"<details><summary><b>{html.escape(layer.name)}</b> · {html.escape(layer.description)} · "
        f"{html.escape(shapes)}</summary><table>{formulas}</table>{pictures}</details>"
    )


def _array_html(name: str, values: np.ndarray[Any, Any]) -> str:
    grid = np.asarray(values, dtype=np.float64)
    grid = grid.reshape(1, -1) if grid.ndim == 1 else grid.reshape(grid.shape[0], -1)
    limit = robust_limit(grid)
    rgb = diverging_rgb(normalise(grid, limit))
    scale = max(1, min(CELL, WIDEST // max(1, grid.shape[1])))
    image = Image.fromarray(rgb).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    shape = "x".join(map(str, values.shape))
    return (
        f"<div><code>{html.escape(name)}</code> {shape} (±{limit:.3g})<br>"
        f"<img alt='{html.escape(name)}' style='image-rendering:pixelated' src='data:image/png;base64,{data}'></div>"
    )


def _list(values: Any) -> str:
    items = [str(int(value)) for value in values]
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"
