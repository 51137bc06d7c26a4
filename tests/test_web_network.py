"""The network drawn on the page, in Chromium: nodes and lines from /api/network, outputs labelled 0-9, every
unit opened by mouse and by keyboard, a conv net's feature maps and kernels, a wide net sampled and saying so.

Set NETKIT_SCREENSHOT_NETWORK=path.png / NETKIT_SCREENSHOT_CONV=path.png to keep screenshots of the drawing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

import netkit as nk
from netkit.data import Dataset
from netkit.io import ModelFile, load_model
from netkit.pretrained import pretrained_model_path
from netkit.web.inspection import ModelView
from netkit.web.routes import App

from .web_helpers import NEEDS_CHROMIUM, browser_fixture, draw, opened, served  # noqa: F401 (fixtures)

pytestmark = NEEDS_CHROMIUM

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
ONE = [(140, 40), (140, 240)]
SEVEN = [(60, 50), (220, 50), (120, 250)]
DONE = '#network-drawing[data-state="done"]'
TIMES = "\N{MULTIPLICATION SIGN}"  # as the page writes 28x28
PAINTED = """(id) => {
    const canvas = document.getElementById(id);
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const seen = new Set();
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0) seen.add(data[i] * 65536 + data[i + 1] * 256 + data[i + 2]);
    }
    return seen.size;
}"""


def _serve(model_file: ModelFile, name: str) -> Iterator[str]:
    with served(App(view=ModelView(model_file, name))) as (host, port):
        yield f"http://{host}:{port}/"


@pytest.fixture(name="shipped_url", scope="module")
def shipped_url_fixture() -> Iterator[str]:
    yield from _serve(load_model(pretrained_model_path()), "shipped model")


@pytest.fixture(name="conv_url", scope="module")
def conv_url_fixture(mnist: Dataset) -> Iterator[str]:
    specs = [
        "conv2d:filters=6,kernel=5,padding=same",
        "maxpool2d:size=2",
        "conv2d:filters=12,kernel=5",
        "maxpool2d:size=2",
        "dense:units=32,activation=relu",
        "dense:units=10,activation=softmax",
    ]
    model = nk.Sequential(specs, input_shape=(1, 28, 28), seed=0)
    images, labels = mnist.train_images[:3000], mnist.train_labels[:3000]
    model.fit(images, labels, epochs=1, optimizer="momentum:lr=0.02", progress=False)
    yield from _serve(ModelFile(model), "a small conv net")


@pytest.fixture(name="wide_url", scope="module")
def wide_url_fixture() -> Iterator[str]:
    wide = nk.Sequential(["dense:units=800", "dense:units=10,activation=softmax"], input_shape=784, seed=1)
    yield from _serve(ModelFile(wide), "a wide net")


def _open(page: Any, layer: int, unit: int) -> None:
    """The detail panel of the node (layer, unit) is showing, with its incoming lines highlighted."""
    page.wait_for_selector(f'#unit-detail[data-layer="{layer}"][data-unit="{unit}"]', state="visible")
    node = page.locator(f'#network-drawing .unit[data-layer="{layer}"][data-unit="{unit}"]')
    assert node.get_attribute("aria-pressed") == "true" and "selected" in node.get_attribute("class")
    position, column = node.get_attribute("data-position"), node.get_attribute("data-column")
    into = page.locator(f'.column-links[data-column="{column}"] line[data-target="{position}"]')
    assert into.count() > 0 and page.locator("#network-drawing line.incoming").count() == into.count()


def test_a_drawing_lights_the_network_up_and_every_layer_opens_by_mouse(browser: Any, shipped_url: str) -> None:
    with opened(browser, shipped_url) as page:
        page.wait_for_selector("#network-drawing .unit")
        draw(page, ONE)
        page.wait_for_selector('#network-drawing[data-state="animating"]', state="attached")
        page.wait_for_selector(DONE, state="attached")
        labels = page.locator("#network-drawing .output-label").all_text_contents()
        assert [label.split("%")[0][0] for label in labels] == [str(digit) for digit in range(10)]
        assert page.locator("#network-drawing .output-label.top").text_content().startswith("1")
        assert page.locator("#network-drawing .unit").count() == 16 + 16 + 10
        assert page.locator("#network-drawing .column-links line").count() == 3 * 120
        for layer, unit in ((0, 4), (1, 2), (2, 7)):
            page.evaluate("document.getElementById('unit-trace').dataset.state = 'waiting'")
            page.click(f'#network-drawing .unit[data-layer="{layer}"][data-unit="{unit}"]')
            _open(page, layer, unit)
            page.wait_for_selector('#unit-trace[data-state="done"]', timeout=15_000)
            assert f"dense_{layer + 1} unit {unit}" in page.text_content("#unit-sum")
            page.wait_for_function(f"({PAINTED})('unit-weights') > 5")
        page.click('#network-drawing .unit[data-layer="0"][data-unit="4"]')
        caption = "document.getElementById('unit-weights-caption').textContent"
        page.wait_for_function(f"{caption}.includes('28{TIMES}28')")
        path = os.environ.get("NETKIT_SCREENSHOT_NETWORK")
        if path:
            page.locator(".network").screenshot(path=path)


def test_the_keyboard_opens_a_unit_in_every_layer_with_a_visible_focus(browser: Any, shipped_url: str) -> None:
    with opened(browser, shipped_url) as page:
        page.wait_for_selector("#network-drawing .unit")
        draw(page, SEVEN)
        page.wait_for_selector(DONE, state="attached")
        page.focus("#units-shown")
        for layer in range(3):
            for _ in range(6):
                page.keyboard.press("Tab")
                if page.evaluate(f"document.activeElement.matches('.unit[data-layer=\"{layer}\"]')"):
                    break
            else:
                raise AssertionError(f"Tab never reached layer {layer}")
            page.keyboard.press("ArrowDown")
            unit = int(page.evaluate("document.activeElement.dataset.unit"))
            assert unit == 1 and f"layer {layer + 1}, unit 1" in page.text_content("#unit-hover")
            ring = page.evaluate("getComputedStyle(document.activeElement.querySelector('.ring')).stroke")
            assert ring not in ("none", "transparent", "rgba(0, 0, 0, 0)"), ring
            label = page.evaluate("document.activeElement.getAttribute('aria-label')")
            assert label.startswith(f"layer {layer + 1}, unit 1") and "press Enter" in label
            page.keyboard.press("Enter")
            _open(page, layer, 1)


def test_with_reduced_motion_the_network_lights_up_at_once(browser: Any, shipped_url: str) -> None:
    with opened(browser, shipped_url, reduced_motion="reduce") as page:
        page.wait_for_selector("#network-drawing .unit")
        draw(page, ONE)
        page.wait_for_selector(DONE, state="attached")
        assert page.locator("#network-drawing .waiting").count() == 0


def test_a_conv_net_shows_each_conv_layers_feature_maps_and_the_first_layers_kernels(
    browser: Any, conv_url: str
) -> None:
    with opened(browser, conv_url) as page:
        page.wait_for_selector("#network-drawing .unit")
        draw(page, SEVEN)
        page.wait_for_selector(DONE, state="attached")
        maps = page.evaluate(
            "[...document.querySelectorAll('#network-drawing .nodes .column')].map((column) =>"
            " column.querySelectorAll('image.map').length)"
        )
        assert maps == [1, 6, 6, 12, 12, 0, 0]  # input, conv, pool, conv, pool: a map per channel; dense: units
        notes = page.text_content("#network-notes")
        assert f"conv2d 6@5x5 same (relu), 6 feature maps of 28{TIMES}28" in notes
        assert f"12 feature maps of 10{TIMES}10" in notes
        assert page.is_visible("#kernels") and page.locator("#kernel-tiles canvas").count() == 6
        assert "Layer 1's kernels" in page.text_content("#kernels-title")
        page.evaluate("document.getElementById('unit-trace').dataset.state = 'waiting'")
        page.click('#network-drawing .unit[data-layer="2"][data-unit="3"]')
        _open(page, 2, 3)
        page.wait_for_function(f"({PAINTED})('unit-map') > 3")
        caption = "document.getElementById('unit-weights-caption').textContent"
        page.wait_for_function(f"{caption}.includes('6 tiles of 5{TIMES}5')")
        page.wait_for_selector('#unit-trace[data-state="done"]', timeout=15_000)
        assert "feature map 3 at its strongest position" in page.text_content("#unit-trace-title")
        assert "conv2d_2 unit" in page.text_content("#unit-sum")
        page.click('#network-drawing .unit[data-layer="1"][data-unit="0"]')  # a pooling map: no weights
        _open(page, 1, 0)
        assert "has no weights" in page.text_content("#unit-weights-legend") and page.is_hidden("#unit-trace")
        path = os.environ.get("NETKIT_SCREENSHOT_CONV")
        if path:
            page.click('#network-drawing .unit[data-layer="0"][data-unit="1"]')
            page.locator(".network").screenshot(path=path)


def test_a_wide_net_draws_a_sample_of_its_units_and_says_so(browser: Any, wide_url: str) -> None:
    with opened(browser, wide_url) as page:
        page.wait_for_selector("#network-drawing .unit")
        assert "16 evenly spaced ones are drawn" in page.text_content("#network-notes")
        draw(page, ONE)
        page.wait_for_selector(DONE, state="attached")
        notes = page.text_content("#network-notes")
        assert "800 units — the 16 most active for this drawing are drawn (sampled: 784 not shown)" in notes
        assert page.locator('#network-drawing .unit[data-layer="0"]').count() == 16
        assert "16 of 800" in page.text_content("#network-drawing")
        page.select_option("#units-shown", "32")
        page.wait_for_function("document.querySelectorAll('#network-drawing .unit[data-layer=\"0\"]').length === 32")
        page.select_option("#links-shown", "400")
        page.wait_for_function(
            "document.querySelectorAll('#network-drawing .column-links[data-column=\"1\"] line').length === 400"
        )


def test_on_a_phone_the_network_fits_the_screen(browser: Any, shipped_url: str) -> None:
    with opened(browser, shipped_url, **PHONE) as page:
        page.wait_for_selector("#network-drawing .unit")
        pad = page.locator("#pad").bounding_box()
        draw(page, [(0.5 * pad["width"], 0.15 * pad["width"]), (0.5 * pad["width"], 0.85 * pad["width"])])
        page.wait_for_selector(DONE, state="attached")
        page.click('#network-drawing .unit[data-layer="2"][data-unit="1"]')
        _open(page, 2, 1)
        page.wait_for_function("document.querySelector('#unit-sum').textContent.includes('z =')")
        box = page.locator("#network-drawing").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
