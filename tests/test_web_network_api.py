"""``/api/network``: the network as the page draws it, from the core's diagram (netkit.model.diagram), for a
drawing (POST) or at rest (GET); a convolution's kernels through ``/api/weights``; bad options are 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import netkit as nk
from netkit.io import ModelFile
from netkit.model.diagram import diagram
from netkit.web.inputs import network_input
from netkit.web.inspection import ModelView
from netkit.web.routes import App

from .web_helpers import png_data_url, post_json, request, served, stroke_image

CONV_NET = [
    "conv2d:filters=4,kernel=5,padding=same",
    "maxpool2d:size=2",
    "conv2d:filters=6,kernel=3",
    "maxpool2d:size=2",
    "dense:units=12,activation=relu",
    "dense:units=10,activation=softmax",
]
Address = tuple[str, int]


@pytest.fixture(name="conv", scope="module")
def conv_fixture() -> Iterator[tuple[nk.Sequential, Address]]:
    model = nk.Sequential(CONV_NET, input_shape=(1, 28, 28), seed=2)
    with served(App(view=ModelView(ModelFile(model), "a small conv net"))) as address:
        yield model, address


@pytest.fixture(name="wide", scope="module")
def wide_fixture() -> Iterator[tuple[nk.Sequential, Address]]:
    model = nk.Sequential(["dense:units=800", "dense:units=10,activation=softmax"], input_shape=784, seed=3)
    with served(App(view=ModelView(ModelFile(model), "a wide net"))) as address:
        yield model, address


def test_a_drawing_gives_the_diagram_the_core_draws(wide: Any) -> None:
    model, address = wide
    body = {"image": png_data_url(stroke_image()), "links": 40, "nodes": 20}
    status, answer = post_json(address, "/api/network", body)
    assert status == 200, answer
    row, _ = network_input(body)
    expected = diagram(model, row.reshape(1, -1), 20, 40)
    assert answer["measure"] == "contribution" and len(answer["columns"]) == 3
    hidden = answer["columns"][1]
    assert hidden["nodes"] == 800 and hidden["chosen_by"] == "most active"
    assert hidden["drawn"] == expected.columns[1].drawn.tolist()
    np.testing.assert_allclose(hidden["links"]["values"], expected.columns[1].links.values, rtol=1e-4, atol=1e-5)
    assert hidden["links"]["total"] == 784 * 20 and len(hidden["links"]["sources"]) == 40
    assert hidden["name"] == "dense_1" and hidden["kind"] == "units" and hidden["activation"] == "sigmoid"
    np.testing.assert_allclose(hidden["values"], model.activations(row)[0][0][hidden["drawn"]], atol=1e-4)
    z = model.layers[0].weighted_sum(row.reshape(1, -1))[0][hidden["drawn"]]
    np.testing.assert_allclose(hidden["weighted_sums"], z, atol=1e-4)


def test_at_rest_the_diagram_links_by_weight_and_spaces_the_units_evenly(wide: Any) -> None:
    model, address = wide
    status, answer = request(address, "GET", "/api/network?links=10")
    assert status == 200 and answer["measure"] == "weight"
    hidden = answer["columns"][1]
    assert hidden["chosen_by"] == "evenly spaced" and hidden["values"] is None and len(hidden["drawn"]) == 16
    weights = model.layers[0].parameters["weight"][:, hidden["drawn"]]
    assert abs(hidden["links"]["values"][0]) == pytest.approx(np.abs(weights).max(), rel=1e-4)


def test_a_conv_nets_diagram_has_feature_maps_peaks_and_kernels(conv: Any) -> None:
    model, address = conv
    body = {"image": png_data_url(stroke_image())}
    status, answer = post_json(address, "/api/network", body)
    assert status == 200, answer
    names = [column["name"] for column in answer["columns"]]
    assert names == ["input", "conv2d_1", "maxpool2d_1", "conv2d_2", "maxpool2d_2", "dense_1", "dense_2"]
    assert [column["layer"] for column in answer["columns"]] == [-1, 0, 1, 2, 3, 4, 5]  # the flatten is hidden
    first = answer["columns"][1]
    assert first["kind"] == "maps" and first["node_shape"] == [28, 28] and len(first["values"]) == 4
    row, _ = network_input(body)
    maps = model.activations(row)[0][0]
    np.testing.assert_allclose(first["values"], maps, atol=1e-4)
    kernel = model.layers[0].parameters["kernel"]  # (kh, kw, channels, filters)
    np.testing.assert_allclose(first["kernels"][2], kernel[..., 2].transpose(2, 0, 1), atol=1e-4)
    assert first["peaks"][1] == 28 * 28 + int(np.argmax(maps[1]))
    assert answer["columns"][2]["links"]["kind"] == "one-to-one" and answer["columns"][2]["kernels"] is None
    status, kernel_answer = request(address, "GET", "/api/weights?layer=2&unit=5")
    assert status == 200 and kernel_answer["shape"] == [4, 3, 3]
    np.testing.assert_allclose(
        kernel_answer["weights"], model.layers[2].parameters["kernel"][..., 5].transpose(2, 0, 1).reshape(-1)
    )
    status, dense_answer = request(address, "GET", "/api/weights?layer=4&unit=0")  # after the flatten
    assert status == 200 and dense_answer["shape"] == [6, 6, 6]
    status, refused = request(address, "GET", "/api/weights?layer=1&unit=0")
    assert status == 404 and "maxpool2d" in refused["error"]


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/api/network?links=-1", None, 400, "links must be 0..5000"),
        ("/api/network?nodes=2", None, 400, "nodes must be 10..64"),
        ("/api/network?nodes=many", None, 400, "whole number"),
        ("/api/network?measure=size", None, 400, "measure must be weight or contribution"),
        ("/api/network", {"pixels": [[0.0] * 28] * 28, "links": "all"}, 400, "whole number"),
        ("/api/network", {"pixels": [[0.0] * 28] * 28, "nodes": []}, 400, "whole number"),
        ("/api/network", {"pixels": [[0.0] * 28] * 28, "measure": ["weight", 3]}, 400, "measure must be"),
        ("/api/network", {"links": 5}, 400, "exactly one of"),
    ],
)
def test_bad_diagram_requests_are_4xx_json(wide: Any, path: str, body: Any, status: int, words: str) -> None:
    _, address = wide
    got, answer = request(address, "GET", path) if body is None else post_json(address, path, body)
    assert got == status and words in answer["error"], answer
