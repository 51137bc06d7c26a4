"""The network as a diagram draws it: each layer's nodes, which of them to draw when a layer is wide, and
the strongest links between the drawn nodes, by weight or by what an input sends along them.

A node is a unit of a layer that gives one axis of values (dense), or a feature map — one channel — of a
layer that gives images ``(channels, height, width)`` (conv2d, the poolings). Flatten layers are not drawn:
a dense layer after one links each feature map below it to each of its units.

A link's **contribution** for an input is what the lower node adds to the upper node's weighted sum z:
``w·x`` for a dense unit fed by a unit, the sum of ``w·x`` over a map's pixels for a dense unit fed by a
feature map, and for a convolution's map the lower channel's share of z averaged over the map's positions
(worked out by the layer itself, from its ``weighted_sum`` of the input with every other channel zeroed).
A link's **weight** is its contribution when every input is 1: a dense weight itself, or the sum of the
weights that join the two nodes (a kernel slice's sum, for a convolution without padding).
Layers without weights (pooling, dropout) link node ``i`` to node ``i`` when both sides have as many nodes.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import attrs
import numpy as np

from netkit.errors import ConfigError
from netkit.model.layer import Flatten, Layer, Shape
from netkit.model.network import Network
from netkit.types import FloatArray

IntArray = np.ndarray[Any, np.dtype[np.int64]]
LinkMeasure = Literal["weight", "contribution"]
LINK_MEASURES: tuple[LinkMeasure, ...] = ("weight", "contribution")


def node_shape(shape: Shape) -> tuple[int, Shape]:
    """(how many nodes, one node's shape) for a layer output of ``shape``: maps for images, else units."""
    if len(shape) == 3:
        return shape[0], shape[1:]
    return math.prod(shape), ()


@attrs.frozen(eq=False)
class Links:
    """The strongest links into a column: ``sources`` index the drawn nodes of the column below (positions
    in its ``drawn``), ``targets`` this column's; ``values`` are signed, the largest size first.
    ``kind`` is ``"weights"``, or ``"one-to-one"`` for a layer without weights (values all 1)."""

    kind: str
    sources: IntArray
    targets: IntArray
    values: FloatArray
    total: int  # links between drawn nodes before the strongest were picked


@attrs.frozen(eq=False)
class Column:
    """One drawn layer (``layer`` indexes ``model.layers``; -1 for the input)."""

    layer: int
    nodes: int
    node_shape: Shape
    drawn: IntArray  # the nodes drawn, in order
    chosen_by: str  # "all", "most active" (with an input) or "evenly spaced" (without)
    values: FloatArray | None  # each drawn node's output for the input: (drawn,) or (drawn, height, width)
    weighted_sums: FloatArray | None  # each drawn unit's z, for a layer that offers it and draws units
    peaks: IntArray | None  # a drawn map's most active position, as a flat unit index of the layer's output
    links: Links | None


@attrs.frozen(eq=False)
class Diagram:
    """The input column first, then one column per drawn layer; links measured by ``measure``."""

    measure: LinkMeasure
    columns: list[Column]


def choose_nodes(strengths: FloatArray | None, count: int, limit: int) -> tuple[IntArray, str]:
    """Which of ``count`` nodes to draw: all when they fit in ``limit``; else the ``limit`` with the largest
    ``strengths`` (kept in their order), or evenly spaced ones when there are no strengths."""
    if count <= limit:
        return np.arange(count, dtype=np.int64), "all"
    if strengths is None:
        return np.unique(np.rint(np.linspace(0, count - 1, limit)).astype(np.int64)), "evenly spaced"
    strongest = np.argsort(-strengths, kind="stable")[:limit]
    return np.sort(strongest).astype(np.int64), "most active"


def _node_strengths(values: FloatArray) -> FloatArray:
    """How active each node is: |a| for a unit, the mean |a| over a feature map."""
    flat = np.abs(values.reshape(len(values), -1).astype(np.float64))
    strengths: FloatArray = flat.mean(axis=1)
    return strengths


def link_matrix(layer: Layer, layer_input: FloatArray, groups: int) -> FloatArray:
    """(lower nodes, upper nodes) contributions of ``layer_input`` (one sample, the layer's input shape):
    see the module docstring. ``groups`` is how many lower nodes the input's values fall into, in order."""
    if not layer.weights:
        raise ConfigError(f"{layer.describe()} has no weights to link by")
    if layer_input.ndim == 1:
        weight = layer.parameters[layer.weights[0]]
        if weight.ndim != 2 or weight.shape[0] != layer_input.size:
            raise ConfigError(f"{layer.describe()} has no (inputs, units) weight matrix for its flat input")
        products = weight.astype(np.float64) * layer_input.astype(np.float64)[:, np.newaxis]
        result: FloatArray = products.reshape(groups, -1, weight.shape[1]).sum(axis=1)
        return result
    if not layer.weighted_sums:
        raise ConfigError(f"{layer.describe()} does not offer its weighted sums to link its maps by")
    channels = layer_input.shape[0]
    masked = np.zeros((channels, *layer_input.shape), dtype=layer_input.dtype)
    masked[np.arange(channels), np.arange(channels)] = layer_input
    baseline = layer.weighted_sum(np.zeros_like(masked[:1]))  # z of an empty input: the bias at every position
    shares = layer.weighted_sum(masked).astype(np.float64) - baseline.astype(np.float64)
    averaged: FloatArray = shares.reshape(channels, shares.shape[1], -1).mean(axis=2)
    return averaged


def strongest_links(matrix: FloatArray, limit: int) -> tuple[IntArray, IntArray, FloatArray]:
    """The ``limit`` entries of ``matrix`` largest in size, largest first: (rows, columns, values)."""
    flat = matrix.reshape(-1)
    order = np.argsort(-np.abs(flat), kind="stable")[:limit]
    rows, columns = np.divmod(order, matrix.shape[1])
    return rows.astype(np.int64), columns.astype(np.int64), flat[order].astype(np.float64)


def diagram(
    model: Network,
    x: np.ndarray[Any, Any] | None = None,
    nodes_per_layer: int = 16,
    links_per_layer: int = 120,
    measure: LinkMeasure = "contribution",
) -> Diagram:
    """The diagram of ``model``, for one input ``x`` (its activations, nodes chosen by them, links by
    ``measure``) or for none (no values, evenly spaced nodes, links by weight)."""
    if measure not in LINK_MEASURES:
        raise ConfigError(f"links are measured by {' or '.join(LINK_MEASURES)}, not {measure!r}")
    if nodes_per_layer < 1 or links_per_layer < 0:
        raise ConfigError("a diagram draws at least one node per layer and no negative number of links")
    if x is None:
        measure = "weight"
        inputs: list[FloatArray | None] = [None] * (len(model.layers) + 1)
    else:
        row = model.check_input(x)[:1]
        inputs = [row[0], *(output[0] for output in model.activations(row))]
    # The input column: an image's channels as maps, or every value of a flat input (a picture's pixels).
    count, shape = node_shape(model.input_shape)
    first = inputs[0]
    columns = [
        Column(-1, count, shape, np.arange(count, dtype=np.int64), "all", _by_node(first, count), None, None, None)
    ]
    for index, layer in enumerate(model.layers):
        if isinstance(layer, Flatten):
            continue
        below = columns[-1]
        output = inputs[index + 1]
        count, shape = node_shape(model.shapes[index + 1])
        values = _by_node(output, count)
        strengths = _node_strengths(values) if values is not None else None
        drawn, chosen_by = choose_nodes(strengths, count, nodes_per_layer)
        layer_input = inputs[index]
        links = _links(layer, model.shapes[index], layer_input, measure, below, drawn, count, links_per_layer)
        sums = None
        if layer_input is not None and layer.weighted_sums and not shape:
            sums = layer.weighted_sum(layer_input[np.newaxis])[0].reshape(-1)[drawn].astype(np.float64)
        peaks = None
        if values is not None and shape:
            positions = values[drawn].reshape(len(drawn), -1).argmax(axis=1)
            peaks = (drawn * math.prod(shape) + positions).astype(np.int64)
        shown = values[drawn] if values is not None else None
        columns.append(Column(index, count, shape, drawn, chosen_by, shown, sums, peaks, links))
    return Diagram(measure, columns)


def _by_node(values: FloatArray | None, count: int) -> FloatArray | None:
    if values is None:
        return None
    return values.reshape(count, *values.shape[1:]) if values.ndim == 3 else values.reshape(count)


def _links(
    layer: Layer,
    input_shape: Shape,
    layer_input: FloatArray | None,
    measure: LinkMeasure,
    below: Column,
    drawn: IntArray,
    count: int,
    limit: int,
) -> Links | None:
    if not layer.weights:
        if below.nodes != count:
            return None
        # Node i to node i, for the nodes drawn on both sides.
        sources = np.flatnonzero(np.isin(below.drawn, drawn)).astype(np.int64)
        targets = np.searchsorted(drawn, below.drawn[sources]).astype(np.int64)
        ones = np.ones(len(sources), dtype=np.float64)
        return Links("one-to-one", sources[:limit], targets[:limit], ones[:limit], len(sources))
    if measure == "contribution" and layer_input is not None:
        given: FloatArray = layer_input
    else:
        given = np.ones(input_shape, dtype=layer.parameters[layer.weights[0]].dtype)
    matrix = link_matrix(layer, given, below.nodes)[np.ix_(below.drawn, drawn)]
    rows, columns, values = strongest_links(matrix, limit)
    return Links("weights", rows, columns, values, int(matrix.size))
