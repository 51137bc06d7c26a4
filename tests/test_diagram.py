"""The network diagram's numbers (netkit.model.diagram): which nodes a wide layer draws, and links whose
contributions add up to each unit's weighted sum, for dense units and for a convolution's feature maps."""

from __future__ import annotations

import numpy as np
import pytest

import netkit as nk
from netkit.errors import ConfigError
from netkit.model.diagram import choose_nodes, diagram, link_matrix

CONV_NET = [
    "conv2d:filters=4,kernel=3,padding=same",
    "maxpool2d:size=2",
    "conv2d:filters=5,kernel=3",
    "dense:units=7,activation=relu",
    "dense:units=10,activation=softmax",
]


def _image(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((1, 28, 28)).astype(np.float32)


def test_wide_layers_draw_their_most_active_nodes_in_order_or_evenly_spaced_ones() -> None:
    strengths = np.array([0.1, 0.9, 0.0, 0.5, 0.7, 0.2])
    drawn, how = choose_nodes(strengths, 6, 3)
    assert drawn.tolist() == [1, 3, 4] and how == "most active"
    drawn, how = choose_nodes(None, 800, 16)
    assert how == "evenly spaced" and len(drawn) == 16 and drawn[0] == 0 and drawn[-1] == 799
    assert np.all(np.diff(drawn) > 0)
    drawn, how = choose_nodes(strengths, 6, 16)
    assert drawn.tolist() == list(range(6)) and how == "all"


def test_a_dense_units_link_contributions_add_up_to_its_weighted_sum() -> None:
    model = nk.Sequential(["dense:units=9", "dense:units=10,activation=softmax"], input_shape=784, seed=3)
    x = _image().reshape(-1)
    layer = model.layers[0]
    contributions = link_matrix(layer, x, 784)
    z = layer.weighted_sum(x[np.newaxis])[0]
    np.testing.assert_allclose(contributions.sum(axis=0) + layer.parameters["bias"], z, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(link_matrix(layer, np.ones(784, np.float32), 784), layer.parameters["weight"])


def test_a_feature_maps_link_contributions_add_up_to_its_mean_weighted_sum() -> None:
    model = nk.Sequential(CONV_NET, input_shape=(1, 28, 28), seed=4)
    pooled = model.activations(_image()[np.newaxis])[1][0]  # the second conv layer's input: 4 maps
    conv = model.layers[2]
    contributions = link_matrix(conv, pooled, 4)
    z = conv.weighted_sum(pooled[np.newaxis])[0]  # (5, 12, 12)
    assert contributions.shape == (4, 5)
    np.testing.assert_allclose(
        contributions.sum(axis=0) + conv.parameters["bias"], z.mean(axis=(1, 2)), rtol=1e-4, atol=1e-5
    )
    # Without padding, a link's weight is the sum of the kernel slice joining the two maps.
    weights = link_matrix(conv, np.ones_like(pooled), 4)
    np.testing.assert_allclose(weights, conv.parameters["kernel"].sum(axis=(0, 1)), rtol=1e-4, atol=1e-6)


def test_a_dense_layer_after_a_flatten_links_each_map_to_each_unit() -> None:
    model = nk.Sequential(CONV_NET, input_shape=(1, 28, 28), seed=4)
    flat = model.activations(_image()[np.newaxis])[3][0]  # the flatten's output: 5 maps of 12x12
    dense = model.layers[4]
    contributions = link_matrix(dense, flat, 5)
    assert contributions.shape == (5, 7)
    by_hand = (dense.parameters["weight"] * flat[:, np.newaxis]).reshape(5, 144, 7).sum(axis=1)
    np.testing.assert_allclose(contributions, by_hand, rtol=1e-5, atol=1e-6)


def test_a_wide_nets_diagram_draws_the_most_active_units_and_its_strongest_links() -> None:
    model = nk.Sequential(["dense:units=800", "dense:units=10,activation=softmax"], input_shape=784, seed=5)
    x = _image(2).reshape(1, -1)
    drawing = diagram(model, x, nodes_per_layer=16, links_per_layer=50)
    inputs, hidden, output = drawing.columns
    assert inputs.layer == -1 and inputs.nodes == 784 and len(inputs.drawn) == 784
    assert hidden.nodes == 800 and hidden.chosen_by == "most active" and len(hidden.drawn) == 16
    activations = model.activations(x)[0][0]
    assert np.min(np.abs(activations[hidden.drawn])) >= np.sort(np.abs(activations))[-16] - 1e-7
    np.testing.assert_allclose(hidden.values, activations[hidden.drawn])
    assert output.chosen_by == "all" and output.drawn.tolist() == list(range(10))
    links = hidden.links
    assert links is not None and len(links.values) == 50 and links.total == 784 * 16
    assert np.all(np.diff(np.abs(links.values)) <= 0)
    products = model.layers[0].parameters["weight"][:, hidden.drawn] * x[0][:, np.newaxis]
    assert abs(links.values[0]) == pytest.approx(np.abs(products).max(), rel=1e-5)
    source, target = links.sources[0], links.targets[0]
    assert links.values[0] == pytest.approx(products[source, target], rel=1e-5)
    # Without an input: no values, evenly spaced units, links by weight.
    resting = diagram(model, None, nodes_per_layer=16, links_per_layer=50)
    assert resting.measure == "weight" and resting.columns[1].chosen_by == "evenly spaced"
    assert resting.columns[1].values is None and resting.columns[1].drawn[-1] == 799


def test_a_conv_nets_diagram_draws_feature_maps_hides_the_flatten_and_links_pooling_one_to_one() -> None:
    model = nk.Sequential(CONV_NET, input_shape=(1, 28, 28), seed=6)
    x = _image(3)
    drawing = diagram(model, x[np.newaxis], nodes_per_layer=16, links_per_layer=1000)
    assert [column.layer for column in drawing.columns] == [-1, 0, 1, 2, 4, 5]
    picture, conv, pool = drawing.columns[:3]
    assert picture.nodes == 1 and picture.node_shape == (28, 28)
    assert conv.nodes == 4 and conv.node_shape == (28, 28) and conv.values is not None
    assert conv.values.shape == (4, 28, 28) and conv.weighted_sums is None
    outputs = model.activations(x[np.newaxis])[0][0]
    assert conv.peaks is not None
    for node, peak in zip(conv.drawn, conv.peaks, strict=True):
        assert outputs.reshape(-1)[peak] == outputs[node].max()
    assert pool.links is not None and pool.links.kind == "one-to-one"
    assert pool.links.sources.tolist() == pool.links.targets.tolist() == [0, 1, 2, 3]
    assert conv.links is not None and conv.links.total == 4  # one input picture to four maps


def test_a_diagram_refuses_an_unknown_link_measure() -> None:
    model = nk.Sequential(["dense:units=3,activation=softmax"], input_shape=4)
    with pytest.raises(ConfigError, match="weight or contribution"):
        diagram(model, None, measure="size")  # type: ignore[arg-type]
