"""The shipped models by name: ``--model cnn`` in predict, evaluate and serve, ``nk.load_shipped``, and the
one-line error for a name that is neither a file nor a shipped model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import netkit as nk
from netkit.cli.main import cli
from netkit.data import Dataset
from netkit.io import load_model
from netkit.pretrained import SHIPPED_MODELS, shipped_model_path

from .test_web_cli import _start, _stop
from .web_helpers import post_json, request, wait_for_url


def _one_image_per_digit(mnist: Dataset, folder: Path) -> tuple[list[str], list[int]]:
    """The first test image of each class, written as dark ink on white paper (as a phone photo reads)."""
    paths, labels = [], []
    for digit in range(10):
        index = int(np.flatnonzero(mnist.test_labels == digit)[0])
        pixels = (255 - 255 * mnist.test_images[index].reshape(28, 28)).astype(np.uint8)
        path = folder / f"digit{digit}.png"
        Image.fromarray(pixels, mode="L").resize((112, 112)).save(path)
        paths.append(str(path))
        labels.append(digit)
    return paths, labels


def test_the_shipped_cnn_is_a_small_convolutional_net_made_by_netkit_train() -> None:
    path = shipped_model_path("cnn")
    assert path.suffix == ".h5" and path.stat().st_size <= 1_000_000
    model_file = load_model(path)
    assert repr(model_file.model).startswith("1x28x28 conv8@5x5(same) pool2 conv16@5x5 pool2")
    assert model_file.model.parameter_count <= 100_000
    assert model_file.training["dataset"] == "mnist" and "thicken" in str(model_file.training["augment"])


def test_predict_model_cnn_reads_digit_images(mnist: Dataset, tmp_path: Path) -> None:
    images, labels = _one_image_per_digit(mnist, tmp_path)
    result = CliRunner().invoke(cli, ["predict", "--model", "cnn", *images, "--json"])
    assert result.exit_code == 0, result.output
    assert [row["digit"] for row in json.loads(result.output)] == labels


def test_predict_model_cnn_reads_the_original_programs_digits(data_root: Path) -> None:
    # RGBA files with the ink in the alpha channel: two of each digit.
    files = [sorted((data_root / "seed-digits" / str(digit)).rglob("*.png"))[:2] for digit in range(10)]
    images = [str(file) for pair in files for file in pair]
    result = CliRunner().invoke(cli, ["predict", "--model", "cnn", *images, "--json"])
    assert result.exit_code == 0, result.output
    assert [row["digit"] for row in json.loads(result.output)] == [digit for digit in range(10) for _ in range(2)]


@pytest.mark.parametrize("arguments", [["cnn"], ["--model", "cnn"]], ids=["MODEL", "--model"])
def test_evaluate_takes_the_shipped_cnn_by_name(arguments: list[str], mnist_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["evaluate", *arguments, "--data-dir", str(mnist_dir), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["architecture"].startswith("1x28x28 conv") and scores["accuracy"] >= 0.99
    assert scores["model"] == str(shipped_model_path("cnn"))


@pytest.mark.parametrize(
    "arguments",
    [
        ["predict", "--model", "lenet", "seven.png"],
        ["predict", "lenet.h5", "seven.png"],
        ["evaluate", "lenet"],
        ["evaluate", "--model", "lenet"],
        ["inspect", "lenet"],
        ["serve", "--model", "lenet", "--port", "0"],
    ],
)
def test_a_name_that_is_neither_a_file_nor_shipped_lists_the_shipped_models(
    arguments: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Image.new("L", (28, 28), 0).save(tmp_path / "seven.png")
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netkit: error: cannot load lenet"), result.output
    assert "shipped: mlp (the default), cnn" in lines[0]


def test_model_given_twice_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["evaluate", "cnn", "--model", "mlp"])
    assert result.exit_code == 2 and "give the model once" in result.output


def test_load_shipped_gives_each_shipped_model_ready_to_predict(mnist: Dataset) -> None:
    for name in SHIPPED_MODELS:
        model = nk.load_shipped(name)
        expected = load_model(shipped_model_path(name)).model.predict_proba(mnist.test_images[:50])
        np.testing.assert_array_equal(model.predict_proba(mnist.test_images[:50]), expected)
    assert repr(nk.load_shipped()) == "784-16-16-10 (sigmoid, softmax)"
    assert shipped_model_path("shipped") == shipped_model_path("mlp")  # netkit finetune's name for the default
    with pytest.raises(nk.ModelFileError, match=r"no shipped model named 'lenet'; .* mlp \(the default\), cnn$"):
        nk.load_shipped("lenet")


def test_serve_model_cnn_starts_and_answers_predictions(data_root: Path) -> None:
    process = _start(["serve", "--model", "cnn", "--port", "0"], data_root)
    assert process.stdout is not None
    _, port, _ = wait_for_url(process, process.stdout)
    status, model = request(("127.0.0.1", port), "GET", "/api/model")
    assert status == 200 and model["architecture"].startswith("1x28x28 conv8@5x5")
    seven = [[0.0] * 28 for _ in range(28)]
    for row in range(6, 22):  # a 7: a bar along the top and a stroke down
        seven[row][19 - (row - 6) // 2] = 1.0
    seven[6][8:20] = [1.0] * 12
    status, body = post_json(("127.0.0.1", port), "/api/predict", {"pixels": seven})
    assert status == 200 and len(body["probabilities"]) == 10 and body["digit"] == 7, body["probabilities"]
    code, stderr = _stop(process)
    assert code == 0 and "Traceback" not in stderr


def test_export_and_inspect_take_a_shipped_model_by_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "cnn", str(tmp_path / "copy.h5")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("cnn (hdf5) -> ")
    copied, shipped = load_model(tmp_path / "copy.h5").model, load_model(shipped_model_path("cnn")).model
    np.testing.assert_array_equal(copied.parameters, shipped.parameters)
    result = CliRunner().invoke(cli, ["inspect", "cnn"], env={"COLUMNS": "160"})
    assert result.exit_code == 0 and "conv2d 16@5x5 valid (relu)" in result.output, result.output
