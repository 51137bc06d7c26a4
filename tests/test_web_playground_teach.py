"""Teach it your handwriting through the playground's API, and the playground as a real ``netkit serve --train``.

The digits taught are the eight seed digits the shipped model misreads (see tests/test_finetune.py), sent as
the page sends a drawing: a PNG data URL.
"""

from __future__ import annotations

import base64
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from netkit.data import Dataset
from netkit.data.images import load_image
from netkit.io import load_model
from netkit.pretrained import pretrained_model_path
from netkit.web.inspection import ModelView, ScoredTestSet
from netkit.web.playground import Playground
from netkit.web.routes import App

from .test_finetune import MISREAD_SEED_DIGITS, MNIST_TOLERANCE
from .test_web_cli import _environment
from .web_helpers import netkit_command, post_json, request, served, wait_for_url

Address = tuple[str, int]


def _data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def address(folder: Path, mnist: Dataset) -> Iterator[Address]:
    folder.mkdir()
    shipped = load_model(pretrained_model_path())
    view = ModelView(shipped, "shipped", ScoredTestSet(shipped, mnist, "mnist"))
    with served(App(view=view, playground=Playground(folder, mnist))) as where:
        yield where


def _read(address: Address, path: Path) -> int:
    code, answer = post_json(address, "/api/predict", {"image": _data_url(path)})
    assert code == 200, answer
    return int(answer["digit"])


def test_added_digits_are_saved_as_the_28x28_image_the_network_sees(
    address: Address, folder: Path, data_root: Path
) -> None:
    seven = next(name for name in MISREAD_SEED_DIGITS if name.startswith("7"))
    source = data_root / "seed-digits" / f"{seven}.png"
    body = {"set": "mine", "digit": 7, "image": _data_url(source)}
    code, reply = post_json(address, "/api/playground/personal/add", body)
    assert code == 200, reply
    assert reply["added"] == "mine/7/1.png" and reply["counts"]["7"] == 1 and reply["total"] == 1
    saved = Image.open(folder / "mine" / "7" / "1.png")
    assert saved.mode == "L" and saved.size == (28, 28)
    # The same row (to a grey level) as the page's prediction of that drawing, and as netkit reads the file back.
    seen = np.asarray(saved, dtype=np.float32).reshape(-1) / 255
    np.testing.assert_allclose(seen, load_image(source), atol=0.5 / 255 + 1e-6)
    np.testing.assert_allclose(load_image(folder / "mine" / "7" / "1.png"), seen, atol=0.02)
    second = post_json(address, "/api/playground/personal/add", body)
    assert second[1]["added"] == "mine/7/2.png"
    assert request(address, "GET", "/api/playground/personal?set=mine")[1]["counts"]["7"] == 2


def test_a_blank_drawing_or_a_bad_digit_is_refused(address: Address, folder: Path) -> None:
    blank = np.zeros((28, 28)).tolist()
    assert post_json(address, "/api/playground/personal/add", {"set": "mine", "digit": 3, "pixels": blank})[0] == 400
    ink = np.ones((28, 28)).tolist()
    for digit in (10, -1, "7", None):
        code, _ = post_json(address, "/api/playground/personal/add", {"set": "mine", "digit": digit, "pixels": ink})
        assert code == 400
    code, reply = post_json(address, "/api/playground/finetune", {"set": "mine"})
    assert code == 400 and "no digits" in reply["error"]
    assert list(folder.iterdir()) == []


def test_finetuned_on_added_digits_the_page_reads_them_right_and_keeps_mnist(
    address: Address, folder: Path, data_root: Path, mnist: Dataset
) -> None:
    images = [data_root / "seed-digits" / f"{name}.png" for name in MISREAD_SEED_DIGITS]
    assert all(_read(address, path) != int(path.parent.name) for path in images)  # misread before
    for path in images:
        body = {"set": "mine", "digit": int(path.parent.name), "image": _data_url(path)}
        assert post_json(address, "/api/playground/personal/add", body)[0] == 200
    code, result = post_json(address, "/api/playground/finetune", {"set": "mine"})
    assert code == 200, result
    assert result["before"]["personal"] == 0.0 and result["after"]["personal"] == 1.0
    assert abs(result["after"]["test"] - result["before"]["test"]) <= MNIST_TOLERANCE
    assert [_read(address, path) for path in images] == [int(path.parent.name) for path in images]
    saved = load_model(folder / "mine-finetuned.h5")
    np.testing.assert_allclose(
        np.mean(np.argmax(saved.model.predict_proba(mnist.test_images), axis=1) == mnist.test_labels),
        result["after"]["test"],
    )
    assert request(address, "GET", "/api/model")[1]["source"] == str(folder / "mine-finetuned.h5")


# ---- the real command ------------------------------------------------------------------------------------------
def _serve(folder: Path, data_root: Path) -> tuple[subprocess.Popen[str], Address]:
    process = subprocess.Popen(
        [*netkit_command(), "serve", "--port", "0", "--train", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(data_root),
    )
    assert process.stdout is not None
    _, port, _ = wait_for_url(process, process.stdout)
    return process, ("127.0.0.1", port)


def _running(address: Address, batches: int, saved_epochs: int = 0) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = request(address, "GET", "/api/playground/status?since=0")[1]
        progress, saved = status.get("progress") or {}, (status.get("job") or {}).get("saved_epoch") or 0
        if len(progress.get("iteration_loss", [])) >= batches and saved >= saved_epochs:
            return status
        time.sleep(0.05)
    raise AssertionError("the run did not get going")


RUN = {"name": "long", "layers": "32", "train_rows": 5000, "epochs": 20, "delay_ms": 2}


def test_ctrl_c_mid_run_stops_the_server_and_the_saved_file_loads(tmp_path: Path, data_root: Path) -> None:
    folder = tmp_path / "new" / "runs"  # created by the command
    process, address = _serve(folder, data_root)
    try:
        assert post_json(address, "/api/playground/start", RUN)[0] == 200
        _running(address, batches=5)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0
    saved = load_model(folder / "long.h5")
    assert len(saved.history.iteration_loss) >= 5 and len(saved.history.epochs) < RUN["epochs"]
    assert [path.name for path in folder.iterdir()] == ["long.h5"]


def test_killed_mid_run_the_last_epochs_file_loads(tmp_path: Path, data_root: Path) -> None:
    process, address = _serve(tmp_path, data_root)
    try:
        assert post_json(address, "/api/playground/start", RUN)[0] == 200
        _running(address, batches=1, saved_epochs=1)
        process.kill()  # no chance to save: the file is the last epoch's checkpoint, whole
        process.communicate(timeout=30)
    finally:
        process.kill()
    saved = load_model(tmp_path / "long.h5")
    assert len(saved.history.epochs) >= 1


def test_train_dir_that_is_a_file_is_a_one_line_error(tmp_path: Path, data_root: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = subprocess.run(
        [*netkit_command(), "serve", "--port", "0", "--train", str(blocker / "runs")],
        capture_output=True,
        text=True,
        env=_environment(data_root),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "playground" in result.stderr
