"""The page in a real headless Chromium (Debian's own, driven by Playwright, which downloads no browser).

Digits are drawn off-centre with mouse events on ``#pad`` and read back from ``#prediction``, as a person
would see them. Set NETKIT_SCREENSHOT=path.png (NETKIT_SCREENSHOT_TRAINING=path.png) to keep a screenshot of
the drawing page (of a --web run's page).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from netkit.web.inspection import ModelView
from netkit.web.routes import App

from .web_helpers import (  # noqa: F401 (fixtures)
    NEEDS_CHROMIUM,
    browser_fixture,
    draw,
    netkit_command,
    opened,
    page_fixture,
    page_url_fixture,
    served,
    wait_for_url,
)

pytestmark = NEEDS_CHROMIUM


# How many of a canvas's pixels are painted (not transparent, not white).
PAINTED_PIXELS = """(id) => {
    const canvas = document.getElementById(id);
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0 && (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250)) painted += 1;
    }
    return painted;
}"""


def test_a_one_drawn_near_the_left_edge_reads_as_1(page: Any) -> None:
    assert draw(page, [(50, 30), (46, 140), (44, 250)]) == "1"


def test_a_seven_drawn_in_the_bottom_right_corner_reads_as_7(page: Any) -> None:
    assert draw(page, [(170, 150), (265, 150), (215, 270)]) == "7"


def test_a_seven_drawn_small_in_the_top_left_in_two_strokes_reads_as_7(page: Any) -> None:
    assert draw(page, [(15, 15), (80, 15)], [(80, 15), (40, 110)]) == "7"


def test_clicking_a_first_layer_unit_shows_its_weight_picture(page: Any) -> None:
    draw(page, [(200, 60), (200, 250)])
    page.click('.unit[data-layer="0"][data-unit="5"]')
    page.wait_for_selector('#unit-detail[data-unit="5"]', state="visible")
    colours = page.evaluate(
        """() => ['unit-weights', 'unit-product'].map((id) => {
            const canvas = document.getElementById(id);
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            const seen = new Set();
            for (let i = 0; i < data.length; i += 4) seen.add(data[i] * 65536 + data[i + 1] * 256 + data[i + 2]);
            return seen.size;
        })"""
    )
    assert colours[0] > 50 and colours[1] > 5, colours  # a picture of 784 weights, not a blank square
    page.hover('.unit[data-layer="1"][data-unit="2"]')
    hover = page.text_content("#unit-hover")
    assert "layer 2, unit 2: weighted input z = " in hover and "activation = " in hover
    screenshot = os.environ.get("NETKIT_SCREENSHOT")
    if screenshot:
        page.set_viewport_size({"width": 1280, "height": 1040})
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(1500)  # the layers light up one after another after a drawing
        page.screenshot(path=screenshot, full_page=False)


def test_switching_preprocessing_off_sends_the_plain_downsample(page: Any) -> None:
    draw(page, [(30, 30), (30, 120)])
    assert "preprocessed" in page.text_content("#seen-caption")
    page.evaluate("document.getElementById('prediction').dataset.state = 'waiting'")
    page.click("#preprocess")
    page.wait_for_selector('#prediction[data-state="done"]')
    assert "no preprocessing" in page.text_content("#seen-caption")


def test_a_random_test_digit_is_drawn_and_answered(page: Any) -> None:
    page.click("#random")
    page.wait_for_selector('#prediction[data-state="done"]')
    assert "test digit #" in page.text_content("#prediction .confidence")
    page.click("#clear")
    assert page.get_attribute("#prediction", "data-state") == "idle"


def test_mistakes_and_a_confusion_cell_show_their_digits(page: Any) -> None:
    page.wait_for_selector("#mistakes .example")
    assert page.locator("#mistakes .example").count() == 40
    cell = page.locator('#confusion td[data-truth="4"][data-guess="9"]')
    expected = min(int(cell.text_content()), 40)
    cell.click()
    page.wait_for_function(f"document.querySelectorAll('#cell-examples .example').length === {expected}")
    captions = page.locator("#cell-examples .example .caption").all_text_contents()
    assert all(caption.startswith("4 → 9") for caption in captions)


def test_every_colour_on_the_page_has_a_legend(page: Any) -> None:
    draw(page, [(140, 40), (140, 240)])
    page.wait_for_selector("#confusion td")
    for legend in ["#pixel-legend", "#confusion-legend", "#gallery-legend", "#epoch-legend"]:
        assert page.text_content(legend).strip(), legend
    # The shipped (slim) file keeps no per-iteration losses: no line is drawn, and the chart says why.
    assert page.text_content("#iteration-legend").strip() == ""
    assert "no per-iteration losses" in page.text_content("#iteration-chart")
    page.wait_for_selector('#network-drawing[data-state="done"]', state="attached")
    assert page.locator("#network-legends .legend").count() == 1  # sigmoid and softmax: one 0..1 shade
    assert "blue negative, orange positive" in page.text_content("#network-notes")  # the lines' colours


def test_train_web_shows_the_loss_chart_grow_and_the_weight_grid(browser: Any, data_root: Path, tmp_path: Path) -> None:
    arguments = ["train", "--layers", "16", "--epochs", "2", "--batch-size", "10", "--validation", "1000"]
    process = subprocess.Popen(
        [*netkit_command(), *arguments, "--web", "--port", "0", "--out", str(tmp_path / "live.h5"), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, NETKIT_DATA=str(data_root), PYTHONUNBUFFERED="1"),
    )
    try:
        assert process.stderr is not None
        url, _, _ = wait_for_url(process, process.stderr)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector('#training-status[data-status="training"]', timeout=60_000)
        page.wait_for_function("Number(document.getElementById('live-iteration-chart').dataset.points) > 0")
        first = int(page.get_attribute("#live-iteration-chart", "data-points"))
        page.wait_for_function(f"Number(document.getElementById('live-iteration-chart').dataset.points) > {first}")
        page.wait_for_selector("#weight-grid[data-version]", state="attached")
        assert page.locator("#live-iteration-chart path.series").count() == 1
        # When the run ends the page turns into the drawing page, on the model just trained, and keeps the
        # run's final charts and weights where the training history goes.
        page.wait_for_selector("#pad", state="visible", timeout=120_000)
        assert "784-16-10" in page.text_content("#model-line")
        assert page.is_visible("#training") and page.locator("#drawing #training").count() == 1
        assert page.get_attribute("#training-status", "data-status") == "done"
        assert page.text_content("#training-status").startswith("done: 2 epochs")
        assert int(page.get_attribute("#live-epoch-chart", "data-points")) == 2 * 2  # train and validation loss
        assert int(page.get_attribute("#live-accuracy-chart", "data-points")) == 2
        assert page.evaluate(PAINTED_PIXELS, "weight-grid") > 1000
        screenshot = os.environ.get("NETKIT_SCREENSHOT_TRAINING")
        if screenshot:
            page.locator("#training").scroll_into_view_if_needed()
            page.screenshot(path=screenshot, full_page=True)
        context.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_a_wide_relu_layer_draws_its_most_active_units_and_a_signed_scale(browser: Any) -> None:
    from netkit.io import ModelFile
    from netkit.model.network import Network

    wide = ModelFile(Network(784, ["dense:units=100,activation=relu", "dense:units=10,activation=softmax"]))
    with (
        served(App(view=ModelView(wide, "a wide relu net"))) as (host, port),
        opened(browser, f"http://{host}:{port}/") as page,
    ):
        page.wait_for_selector("#pad", state="visible")
        draw(page, [(60, 60), (200, 200)])
        page.wait_for_selector('#network-drawing[data-state="done"]', state="attached")
        assert page.locator('#network-drawing .unit[data-layer="0"]').count() == 16
        assert "the 16 most active for this drawing are drawn (sampled: 84 not shown)" in page.text_content(
            "#network-notes"
        )
        assert "99th percentile of |activation|" in page.text_content("#network-legends")


def test_the_page_paints_with_the_cores_colour_scale(page: Any) -> None:
    from netkit.pictures.colours import ACTIVATION_HIGH, NEGATIVE, POSITIVE, SCALE_PERCENTILE, ZERO

    page.wait_for_selector("#confusion td")
    stops = page.evaluate("window.netkitColors.stops()")
    assert stops == {
        "negative": list(NEGATIVE),
        "zero": list(ZERO),
        "positive": list(POSITIVE),
        "activation_high": list(ACTIVATION_HIGH),
        "percentile": SCALE_PERCENTILE,
    }
    # The page's percentile agrees with the core's robust_limit on the same numbers.
    from netkit.pictures.colours import robust_limit

    values = [0.5 * i - 7 for i in range(37)]
    assert abs(page.evaluate(f"window.netkitColors.percentile99({values})") - robust_limit(np.array(values))) < 1e-9
