"""Helpers shared by the web tests (``tests/test_web_*.py``): a served App and a standard-library client."""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest
from PIL import Image

from netkit.data import Dataset
from netkit.io import load_model
from netkit.pretrained import pretrained_model_path
from netkit.web.connections import Limits
from netkit.web.inspection import ModelView, ScoredTestSet
from netkit.web.routes import App
from netkit.web.server import bind, serve_in_background

URL_PATTERN = re.compile(r"http://127\.0\.0\.1:(\d+)/")


@contextlib.contextmanager
def served(app: App, limits: Limits | None = None) -> Iterator[tuple[str, int]]:
    """Serve ``app`` on 127.0.0.1 at a free port in a thread; yield (host, port)."""
    server = bind(app, "127.0.0.1", 0, limits)
    thread = serve_in_background(server)
    try:
        yield "127.0.0.1", int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def request(
    address: tuple[str, int],
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """One request; the status and the JSON reply (every /api/ reply is JSON, errors included)."""
    connection = http.client.HTTPConnection(*address, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        assert response.getheader("Content-Type") == "application/json", payload[:200]
        return response.status, json.loads(payload)
    finally:
        connection.close()


def post_json(address: tuple[str, int], path: str, value: Any) -> tuple[int, dict[str, Any]]:
    return request(address, "POST", path, json.dumps(value).encode(), {"Content-Type": "application/json"})


def png_data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def stroke_image(size: int = 280) -> Image.Image:
    """A transparent canvas with a black vertical stroke off to the left, like the page's pad sends."""
    pixels = np.zeros((size, size, 4), dtype=np.uint8)
    pixels[40:220, 50:70, 3] = 255
    return Image.fromarray(pixels, mode="RGBA")


def netkit_command() -> list[str]:
    script = Path(sys.executable).with_name("netkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "netkit.cli.main"]


def wait_for_url(process: subprocess.Popen[str], stream: IO[str], seconds: float = 60) -> tuple[str, int, list[str]]:
    """Read ``stream`` until the command prints its URL; (the URL, its port, the lines read)."""
    deadline = time.monotonic() + seconds
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        found = URL_PATTERN.search(line)
        if found:
            return found.group(0), int(found.group(1)), lines
    raise AssertionError(f"no URL printed; exit code {process.poll()}; output: {''.join(lines)}")


# ---- the page in a real headless Chromium (Debian's own, driven by Playwright, which downloads no browser) ----
CHROMIUM = os.environ.get("NETKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NEEDS_CHROMIUM = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium) to run the page in"
)
DESKTOP = {"width": 1400, "height": 1000}
Stroke = list[tuple[float, float]]


@pytest.fixture(name="browser", scope="module")
def browser_fixture() -> Iterator[Any]:
    from playwright import sync_api as playwright_api

    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(name="page_url", scope="module")
def page_url_fixture(mnist: Dataset) -> Iterator[str]:
    """The shipped model with its MNIST mistakes, served for the module's tests."""
    shipped = load_model(pretrained_model_path())
    view = ModelView(shipped, "shipped model", ScoredTestSet(shipped, mnist, "mnist"))
    with served(App(view=view)) as (host, port):
        yield f"http://{host}:{port}/"


@contextlib.contextmanager
def opened(browser: Any, url: str, **context_options: Any) -> Iterator[Any]:
    """A page of ``url`` in a fresh context (desktop size unless told); fails on any script error."""
    context = browser.new_context(**{"viewport": DESKTOP, **context_options})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


@pytest.fixture(name="page")
def page_fixture(browser: Any, page_url: str) -> Iterator[Any]:
    with opened(browser, page_url) as page:
        page.wait_for_selector("#pad", state="visible")
        yield page


def draw(page: Any, *strokes: Stroke) -> str:
    """Draw each stroke on the pad with the mouse; the digit #prediction shows for the last one."""
    box = page.locator("#pad").bounding_box()
    for stroke in strokes:
        page.evaluate("document.getElementById('prediction').dataset.state = 'drawing'")
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=12)
        page.mouse.up()
        page.wait_for_selector('#prediction[data-state="done"]', timeout=15_000)
    digit: str = page.get_attribute("#prediction", "data-digit")
    return digit
