"""The page works one unit out and learns from a drawing: the numbers are the served model's, and one step
changes the probabilities exactly as ``model.trace`` says while the model and its file stay as they were."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from netkit.io import load_model
from netkit.pretrained import pretrained_model_path
from netkit.web.inputs import network_input
from netkit.web.inspection import ModelView
from netkit.web.routes import App

from .web_helpers import (  # noqa: F401 (fixtures)
    NEEDS_CHROMIUM,
    browser_fixture,
    draw,
    opened,
    png_data_url,
    post_json,
    served,
    stroke_image,
)


@pytest.fixture(name="served_copy", scope="module")
def served_copy_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ModelView, tuple[str, int]]]:
    path = tmp_path_factory.mktemp("served") / "model.h5"
    shutil.copy(pretrained_model_path(), path)
    view = ModelView(load_model(path), str(path))
    with served(App(view=view)) as address:
        yield path, view, address


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_trace_endpoint_answers_from_model_trace_and_refuses_bad_units(served_copy: Any) -> None:
    path, view, address = served_copy
    before = _digest(path)
    body = {"image": png_data_url(stroke_image()), "label": 4, "layer": 1, "unit": 5}
    status, answer = post_json(address, "/api/trace", body)
    assert status == 200, answer
    row, _ = network_input(body)
    expected = view.model.trace(row.reshape(1, -1), 4, unit=("dense_2", 5))
    assert answer["unit"]["z"] == pytest.approx(expected.unit.z) and answer["loss_after"] == expected.loss_after  # type: ignore[union-attr]
    assert post_json(address, "/api/trace", {**body, "unit": 99})[0] == 400
    assert post_json(address, "/api/trace", {**body, "label": 10})[0] == 400
    assert post_json(address, "/api/trace", {**body, "layer": 7})[0] == 404
    assert _digest(path) == before


@NEEDS_CHROMIUM
def test_clicking_units_works_their_sums_out_and_learning_leaves_the_model_file_alone(
    browser: Any, served_copy: Any
) -> None:
    path, view, (host, port) = served_copy
    before = _digest(path)
    with opened(browser, f"http://{host}:{port}/") as page:
        page.wait_for_selector("#pad", state="visible")
        bodies: list[dict[str, Any]] = []
        page.on(
            "request",
            lambda sent: bodies.append(json.loads(sent.post_data)) if sent.url.endswith("/api/trace") else None,
        )
        draw(page, [(140, 40), (140, 240)])
        for layer, unit, name in ((1, 5, "dense_2"), (2, 7, "dense_3")):
            page.evaluate("document.getElementById('unit-trace').dataset.state = 'waiting'")
            page.click(f'#network-drawing .unit[data-layer="{layer}"][data-unit="{unit}"]')
            page.wait_for_selector('#unit-trace[data-state="done"]', timeout=15_000)
            row, _ = network_input(bodies[-1])
            inputs = view.model.activations(row)[layer - 1]
            z = float(view.model.layers[layer].weighted_sum(inputs)[0, unit])
            shown = page.locator("#unit-sum")
            assert f"{name} unit {unit}" in shown.text_content()
            assert float(shown.get_attribute("data-written-sum")) == pytest.approx(z, abs=1e-4)
            assert float(shown.get_attribute("data-z")) == pytest.approx(z, abs=1e-5)
        assert "dL/dz" in page.text_content("#unit-sum")
        probabilities_before = view.model.predict_proba(network_input(bodies[-1])[0])

        page.select_option("#trace-label", "3")
        page.wait_for_selector('#unit-trace[data-state="done"]', timeout=15_000)
        page.click("#learn")
        page.wait_for_selector('#unit-trace[data-state="learned"]', timeout=15_000)
        shown_after = json.loads(page.get_attribute("#learn-result", "data-probabilities"))
        row, _ = network_input(bodies[-1])
        assert bodies[-1]["label"] == 3
        predicted = view.model.trace(row.reshape(1, -1), 3).probabilities_after[0]
        np.testing.assert_allclose(shown_after, predicted, rtol=1e-6)
        assert shown_after[3] > view.model.predict_proba(row)[0][3]  # one step towards 3
        np.testing.assert_array_equal(view.model.predict_proba(row), probabilities_before)
    assert _digest(path) == before
