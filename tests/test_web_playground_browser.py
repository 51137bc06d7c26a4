"""The playground page in a real headless Chromium: a run steered by its buttons, a drawn digit taught.

Set NETKIT_SCREENSHOT_PLAYGROUND=path.png to keep a screenshot of the page after the run and the lesson.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from netkit.data import Dataset
from netkit.io import load_model
from netkit.pretrained import pretrained_model_path
from netkit.web.inspection import ModelView, ScoredTestSet
from netkit.web.playground import Playground
from netkit.web.routes import App

from .test_finetune import MNIST_TOLERANCE
from .web_helpers import NEEDS_CHROMIUM, Stroke, browser_fixture, opened, served  # noqa: F401 (fixtures)

pytestmark = NEEDS_CHROMIUM

# A 7 with a bar through its stem, as it is written in much of Europe: the shipped model reads it as 3.
CROSSED_SEVEN: list[Stroke] = [[(60, 50), (220, 50), (130, 250)], [(90, 150), (210, 150)]]


@pytest.fixture
def playground_url(tmp_path: Path, mnist: Dataset) -> Iterator[str]:
    shipped = load_model(pretrained_model_path())
    view = ModelView(shipped, "shipped model", ScoredTestSet(shipped, mnist, "mnist"))
    playground = Playground(tmp_path, mnist)
    with served(App(view=view, playground=playground)) as (host, port):
        yield f"http://{host}:{port}/playground.html"
    playground.close()


def _batches(page: Any) -> int:
    return int(page.get_attribute("#run-status", "data-batches") or 0)


def _draw(page: Any, strokes: list[Stroke], shift: tuple[int, int] = (0, 0)) -> str:
    page.click("#clear")
    pad = page.locator("#pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.evaluate("document.getElementById('reading').dataset.state = 'drawing'")
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x + shift[0], box["y"] + y + shift[1])
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x + shift[0], box["y"] + y + shift[1], steps=12)
        page.mouse.up()
    page.wait_for_selector('#reading[data-state="done"]', timeout=15_000)
    digit: str = page.get_attribute("#reading", "data-digit")
    return digit


def test_a_run_started_paused_stepped_and_saved_under_the_chosen_folder(
    browser: Any, playground_url: str, tmp_path: Path
) -> None:
    with opened(browser, playground_url) as page:
        page.fill("#run-name", "from-the-page")
        page.fill("#layers", "16")
        page.fill("#train-rows", "2000")
        page.check("#start-paused")
        page.click("#start")
        page.wait_for_selector('#run-status[data-state="paused"]')
        page.wait_for_selector("#weight-grid[data-version]")
        for expected in (1, 2, 3):
            page.click("#step")
            page.wait_for_function(f"document.getElementById('run-status').dataset.batches === '{expected}'")
        assert "paused" in page.text_content("#run-status")
        page.fill("#steer-rate", "0.3")
        page.click("#apply-rate")
        page.wait_for_function("document.getElementById('run-status').textContent.includes('learning rate 0.3')")
        page.click("#stop")
        page.wait_for_selector('#run-status[data-state="stopped"]')
        assert "saved from-the-page.h5" in page.text_content("#run-status")
        shown = _batches(page)
    saved = load_model(tmp_path / "from-the-page.h5")
    assert len(saved.history.iteration_loss) == shown == 3
    assert saved.optimizer is not None and saved.optimizer.learning_rate == 0.3


def test_a_run_to_its_end_fills_the_charts_then_a_drawn_digit_is_taught(
    browser: Any, playground_url: str, tmp_path: Path
) -> None:
    with opened(browser, playground_url) as page:
        page.fill("#epochs", "4")
        page.fill("#train-rows", "5000")
        page.click("#start")
        page.wait_for_selector('#run-status[data-state="done"]', timeout=20_000)
        assert page.get_attribute("#epoch-chart", "data-points") == "8"  # training and validation loss, 4 epochs
        assert page.get_attribute("#accuracy-chart", "data-points") == "4"
        assert int(page.get_attribute("#iteration-chart", "data-points")) == _batches(page) == 4 * 141
        assert _draw(page, CROSSED_SEVEN) == "3"
        page.click("#digit-choice button[data-digit='7']")
        for count, shift in enumerate(((0, 0), (-30, 10), (25, -10)), start=1):  # one hand, three places on the pad
            _draw(page, CROSSED_SEVEN, shift)
            page.click("#add-digit")
            page.wait_for_function(f"document.getElementById('set-counts').dataset.total === '{count}'")
        page.click("#finetune")
        page.wait_for_selector('#teach-status[data-state="done"]', timeout=20_000)
        table = page.locator("#finetune-result")
        assert float(table.get_attribute("data-personal-after")) == 1.0
        before, after = float(table.get_attribute("data-test-before")), float(table.get_attribute("data-test-after"))
        assert abs(after - before) <= MNIST_TOLERANCE
        assert _draw(page, CROSSED_SEVEN, (10, 5)) == "7"
        if os.environ.get("NETKIT_SCREENSHOT_PLAYGROUND"):
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=os.environ["NETKIT_SCREENSHOT_PLAYGROUND"], full_page=True)
    assert sorted(path.name for path in (tmp_path / "mine" / "7").iterdir()) == ["1.png", "2.png", "3.png"]
    assert load_model(tmp_path / "mine-finetuned.h5").training["finetune"]["personal"] == 3
