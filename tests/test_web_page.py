"""The page's behaviour as a person meets it in Chromium: on a phone, from the keyboard, with a screen reader,
with JavaScript off, when the server stops, and what each button leaves on screen.

Set NETKIT_SCREENSHOT_PHONE=path.png to keep a screenshot of the phone layout after drawing.
"""

from __future__ import annotations

import json
import os
from typing import Any

from netkit.io import load_model
from netkit.pretrained import pretrained_model_path
from netkit.web.inspection import ModelView
from netkit.web.live import TrainingProgress
from netkit.web.routes import App
from netkit.web.server import bind, serve_in_background

from .web_helpers import (  # noqa: F401 (fixtures)
    NEEDS_CHROMIUM,
    browser_fixture,
    draw,
    opened,
    page_fixture,
    page_url_fixture,
    served,
)

pytestmark = NEEDS_CHROMIUM

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# How many of a canvas's pixels hold anything (not fully transparent).
INKED_PIXELS = """(id) => {
    const canvas = document.getElementById(id);
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked += 1;
    return inked;
}"""
IN_VIEW = """(selector) => {
    const box = document.querySelector(selector).getBoundingClientRect();
    return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
}"""


def _predict_bodies(page: Any) -> list[dict[str, Any]]:
    """Every /api/predict body the page sends from now on (a list that fills as it does)."""
    bodies: list[dict[str, Any]] = []
    page.on(
        "request", lambda sent: bodies.append(json.loads(sent.post_data)) if sent.url.endswith("/api/predict") else None
    )
    return bodies


def _answered(page: Any) -> None:
    page.wait_for_selector('#prediction[data-state="done"]', timeout=15_000)


def _expect_answer(page: Any) -> None:
    page.evaluate("document.getElementById('prediction').dataset.state = 'waiting'")


def test_clicking_a_mistake_brings_its_answer_into_view(page: Any) -> None:
    tile = page.locator("#mistakes .example").nth(5)
    tile.scroll_into_view_if_needed()
    assert not page.evaluate(IN_VIEW, "#prediction")  # the answer is far above the gallery
    index = tile.get_attribute("data-index")
    _expect_answer(page)
    tile.click()
    _answered(page)
    assert f"test digit #{index}" in page.text_content("#prediction .confidence")
    assert page.evaluate(IN_VIEW, "#prediction")


def test_the_preprocessing_switch_applies_to_test_digits(page: Any) -> None:
    bodies = _predict_bodies(page)
    _expect_answer(page)
    page.click("#random")
    _answered(page)
    assert bodies[-1]["preprocess"] is True and "pixels" in bodies[-1]
    assert page.text_content("#seen-caption") == "the 28x28 input, preprocessed"
    caption = page.text_content("#prediction .confidence").split(" · ", 1)[1]
    _expect_answer(page)
    page.click("#preprocess")  # off: the same test digit again, as netkit evaluate scores it
    _answered(page)
    assert bodies[-1]["preprocess"] is False and bodies[-1]["pixels"] == bodies[-2]["pixels"]
    assert page.text_content("#seen-caption") == "the 28x28 input (no preprocessing)"
    assert page.text_content("#prediction .confidence").endswith(caption)
    _expect_answer(page)
    page.click("#random")  # and the switch stays off for the next one
    _answered(page)
    assert bodies[-1]["preprocess"] is False


def test_clear_clears_every_picture(page: Any) -> None:
    draw(page, [(140, 40), (140, 240)])
    page.click('.unit[data-layer="0"][data-unit="3"]')
    page.wait_for_selector('#unit-detail[data-unit="3"]', state="visible")
    pictures = ["pad", "seen", "downsample", "unit-product"]
    page.wait_for_function(f"({INKED_PIXELS})('unit-product') > 0")
    assert all(page.evaluate(INKED_PIXELS, picture) > 0 for picture in pictures)
    page.click("#clear")
    assert {picture: page.evaluate(INKED_PIXELS, picture) for picture in pictures} == dict.fromkeys(pictures, 0)
    assert page.text_content("#prediction .digit") == "?" and page.locator("#bars > *").count() == 0
    assert page.locator(".unit").count() == page.locator(".unit.blank").count() == 16 + 16 + 10
    assert page.evaluate(INKED_PIXELS, "unit-weights") > 0  # the unit's own weights do not depend on a drawing


def test_on_a_phone_the_pad_fills_the_width_and_the_answer_shows_without_scrolling(browser: Any, page_url: str) -> None:
    with opened(browser, page_url, **PHONE) as page:
        page.wait_for_selector("#confusion td")
        pad = page.locator("#pad").bounding_box()
        assert pad["width"] >= 360 and abs(pad["width"] - pad["height"]) < 1
        digit = draw(page, [(0.5 * pad["width"], 0.15 * pad["width"]), (0.5 * pad["width"], 0.85 * pad["width"])])
        assert digit == "1"
        assert page.evaluate("window.scrollY") == 0 and page.evaluate(IN_VIEW, "#prediction")
        page.click('.unit[data-layer="0"][data-unit="2"]')
        page.wait_for_selector('#unit-detail[data-unit="2"]', state="visible")
        # The widest thing a phone shows: the unit's worked sum, once the server's trace has arrived.
        page.wait_for_function("document.querySelector('#unit-sum').textContent.includes('z =')")
        widest = page.evaluate(
            "Math.max(...[...document.querySelectorAll('body *')].map((e) => e.getBoundingClientRect().right))"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 and widest <= 390.5, widest
        nodes = page.evaluate(
            "[...document.querySelectorAll('#network-drawing .unit')].map((unit) => unit.getBoundingClientRect().right)"
        )
        assert len(nodes) == 16 + 16 + 10 and max(nodes) <= 390  # the whole network drawn within the screen
        screenshot = os.environ.get("NETKIT_SCREENSHOT_PHONE")
        if screenshot:
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=screenshot)


def test_a_stopped_server_is_reported_in_plain_words(browser: Any) -> None:
    server = bind(App(view=ModelView(load_model(pretrained_model_path()), "shipped")), "127.0.0.1", 0)
    thread = serve_in_background(server)
    with opened(browser, server.url) as page:
        page.wait_for_selector("#pad", state="visible")
        assert page.is_hidden("#server-gone")
        server.shutdown()
        server.server_close()
        thread.join()
        draw_box = page.locator("#pad").bounding_box()
        page.mouse.move(draw_box["x"] + 100, draw_box["y"] + 50)
        page.mouse.down()
        page.mouse.move(draw_box["x"] + 100, draw_box["y"] + 250, steps=5)
        page.mouse.up()
        page.wait_for_selector("#server-gone", state="visible")
        text = page.inner_text("body")
        assert "The netkit server is not answering" in text and "netkit serve" in page.text_content("#server-gone")
        assert "Failed to fetch" not in text and page.get_attribute("#prediction", "data-state") == "error"


def test_without_javascript_the_page_says_what_it_needs(browser: Any, page_url: str) -> None:
    with opened(browser, page_url, java_script_enabled=False) as page:
        text = page.inner_text("body")
        assert "This page needs JavaScript" in text and "netkit evaluate" in text
        assert "loading" not in text


def test_a_training_page_starts_with_a_sensible_first_frame(browser: Any) -> None:
    with (
        served(App(live=TrainingProgress("loading the data"))) as (host, port),
        opened(browser, f"http://{host}:{port}/") as page,
    ):
        page.wait_for_selector("#training", state="visible")
        page.wait_for_function("document.getElementById('training-status').textContent.startsWith('starting')")
        text = page.inner_text("#training")
        assert "loading the data" in page.text_content("#training-status")
        assert "epoch 0 of 0" not in text and "keeps no per-iteration losses" not in text
        assert "the first batch's loss appears here" in text and "after the first epoch" in text


def test_the_keyboard_reaches_a_unit_and_a_mistake_and_opens_them(page: Any) -> None:
    page.wait_for_selector("#mistakes .example")

    def tab_to(selector: str, most: int = 30) -> None:
        for _ in range(most):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"{most} presses of Tab never reached {selector}")

    tab_to('.unit[data-layer="0"]')
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert "layer 1, unit 2" in page.text_content("#unit-hover")  # focus says what hovering says
    page.keyboard.press("Enter")
    page.wait_for_selector('#unit-detail[data-unit="2"]', state="visible")
    assert page.get_attribute('.unit[data-layer="0"][data-unit="2"]', "aria-pressed") == "true"
    tab_to("#mistakes .example")
    page.keyboard.press("ArrowRight")
    index = page.evaluate("document.activeElement.dataset.index")
    assert index == page.get_attribute("#mistakes .example:nth-child(2)", "data-index")
    _expect_answer(page)
    page.keyboard.press("Enter")
    _answered(page)
    assert f"test digit #{index}" in page.text_content("#prediction .confidence")
    tab_to("#confusion button")
    page.keyboard.press("ArrowDown")  # row 1, column 0: ones read as zeros
    page.keyboard.press("Space")
    page.wait_for_selector('#confusion td.selected[data-truth="1"][data-guess="0"]')


def test_screen_readers_hear_the_answer_and_every_picture_has_words(page: Any) -> None:
    assert page.get_attribute("#prediction", "aria-live") == "polite"
    labels = page.evaluate(
        "[...document.querySelectorAll('canvas')]"
        ".map((c) => [c.id, c.getAttribute('role'), c.getAttribute('aria-label')])"
    )
    assert len(labels) == 8 and all(role == "img" and label for _, role, label in labels), labels
    page.wait_for_selector("#mistakes .example")
    for tile in page.locator("#mistakes .example").all()[:10]:
        truth, guess = tile.locator(".caption").text_content().split(" (")[0].split(" → ")
        alt = tile.locator("img").get_attribute("alt")
        assert f"a {truth} the model reads as {guess}" in alt, alt
    assert "press Enter to see its sum worked out and its weights" in page.get_attribute(
        '.unit[data-layer="0"][data-unit="0"]', "aria-label"
    )
    assert page.get_attribute('.unit[data-layer="2"][data-unit="7"]', "aria-label").startswith(
        "layer 3, unit 7 (digit 7)"
    )


def test_a_form_on_another_site_cannot_post_to_the_server(browser: Any, page_url: str) -> None:
    # The classic trick: a text/plain form whose field name and value together read as JSON.
    form = (
        f'<form method="post" action="{page_url}api/predict" enctype="text/plain">'
        '<input name=\'{"pixels": [], "x": "\' value=\'"}\'></form>'
    )
    with opened(browser, "about:blank") as page:
        page.set_content(form)
        with page.expect_response(lambda response: response.url.endswith("/api/predict")) as sent:
            page.evaluate("document.forms[0].submit()")
        assert sent.value.status == 415 and "must be JSON" in sent.value.json()["error"]
