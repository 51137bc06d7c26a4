"""The picture commands: ``plot``, ``inspect --weights``, ``evaluate --mistakes``, ``data show``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from netkit.cli.main import cli
from netkit.io import ModelFile, save_model
from netkit.model.network import Network
from netkit.pictures.colours import NEGATIVE, POSITIVE
from netkit.registry import default_registry
from netkit.training.trainer import Trainer

from .conftest import SEED_ARCHITECTURE


def _run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def digits_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CSV dataset of 28x28 'digits': each class inks its own band of rows."""
    folder = tmp_path_factory.mktemp("csv")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 12)
    pixels = rng.integers(0, 40, (labels.size, 784))
    for row, label in enumerate(labels):
        pixels[row, label * 70 : label * 70 + 60] = 255
    table = np.column_stack([labels, pixels])
    np.savetxt(folder / "train.csv", table, fmt="%d", delimiter=",")
    np.savetxt(folder / "test.csv", table[::3], fmt="%d", delimiter=",")
    return folder


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory, digits_csv: Path) -> Path:
    rng = np.random.default_rng(0)
    model = Network(784, SEED_ARCHITECTURE, "cross-entropy", rng)
    trainer = Trainer(model, default_registry().create("optimizers", "mini-batch"))
    images = rng.random((200, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 200)
    trainer.fit(images, labels, 3, (images[:40], labels[:40]))
    dataset = f"csv:path={digits_csv / 'train.csv'},test_path={digits_csv / 'test.csv'}"
    path = tmp_path_factory.mktemp("model") / "m.h5"
    save_model(ModelFile.from_trainer(trainer, {"dataset": dataset, "seed": 0, "validation": 0.1}), path)
    return path


def _png(path: Path) -> Image.Image:
    image = Image.open(path)
    assert image.format == "PNG"
    image.load()
    return image


def test_plot_writes_a_png_and_an_svg(model_file: Path, tmp_path: Path) -> None:
    result = _run("plot", model_file, "-o", tmp_path / "loss.png")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout
    image = _png(tmp_path / "loss.png")
    assert image.size[0] > 600 and np.asarray(image).std() > 10
    result = _run("plot", model_file, "--out", tmp_path / "loss.svg")
    assert result.exit_code == 0, result.output
    root = ElementTree.parse(tmp_path / "loss.svg").getroot()
    assert any((element.text or "").startswith("Training curves of m.h5") for element in root.iter())


def test_plot_refuses_other_extensions_and_missing_folders(model_file: Path, tmp_path: Path) -> None:
    result = _run("plot", model_file, "-o", tmp_path / "loss.jpg")
    assert result.exit_code == 2 and ".png or .svg" in result.stderr
    result = _run("plot", model_file, "-o", tmp_path / "nowhere" / "loss.png")
    assert result.exit_code == 1 and result.stderr.startswith("netkit: error: cannot write")
    assert not (tmp_path / "nowhere").exists()


def test_plot_of_an_untrained_model_says_so(tmp_path: Path) -> None:
    path = tmp_path / "fresh.h5"
    save_model(
        ModelFile.from_trainer(
            Trainer(Network(784, SEED_ARCHITECTURE), default_registry().create("optimizers", "mini-batch"))
        ),
        path,
    )
    result = _run("plot", path, "-o", tmp_path / "loss.png")
    assert result.exit_code == 1 and "no training history" in result.stderr
    assert not (tmp_path / "loss.png").exists()


def test_inspect_weights_writes_a_tile_grid_in_the_shared_colours(model_file: Path, tmp_path: Path) -> None:
    result = _run("inspect", model_file, "--weights", tmp_path / "weights.png")
    assert result.exit_code == 0, result.output
    image = _png(tmp_path / "weights.png").convert("RGB")
    colours = {tuple(pixel) for pixel in np.asarray(image).reshape(-1, 3).tolist()}
    assert NEGATIVE in colours and POSITIVE in colours
    assert image.size[0] > 8 * 84  # 16 tiles of 84 pixels, 8 to a row


def test_inspect_weights_and_neuron_are_one_or_the_other(model_file: Path, tmp_path: Path) -> None:
    result = _run("inspect", model_file, "--weights", tmp_path / "w.png", "--neuron", "2")
    assert result.exit_code == 2 and "choose one" in result.stderr


def test_inspect_weights_needs_square_image_inputs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    layers = [{"type": "dense", "units": 3, "activation": "softmax"}]
    path = tmp_path / "small.h5"
    trainer = Trainer(Network(20, layers, "cross-entropy", rng), default_registry().create("optimizers", "mini-batch"))
    save_model(ModelFile.from_trainer(trainer), path)
    result = _run("inspect", path, "--weights", tmp_path / "w.png")
    assert result.exit_code == 1 and "square image" in result.stderr and "20" in result.stderr
    assert not (tmp_path / "w.png").exists()


def test_evaluate_mistakes_writes_a_gallery(model_file: Path, tmp_path: Path) -> None:
    result = _run("evaluate", model_file, "--mistakes", tmp_path / "mistakes.png", "--mistakes-shown", "6")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout and "accuracy" in result.stdout
    image = _png(tmp_path / "mistakes.png").convert("L")
    pixels = np.asarray(image)
    assert pixels.min() < 50 and pixels.max() == 255  # ink on paper
    assert image.size[0] >= 6 * 84  # six tiles in a row, 3x


def test_evaluate_mistakes_with_json_keeps_stdout_json(model_file: Path, tmp_path: Path) -> None:
    result = _run("evaluate", model_file, "--json", "--mistakes", tmp_path / "m.png")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 40 and (tmp_path / "m.png").stat().st_size > 1000


def test_data_show_draws_a_row_per_class(digits_csv: Path, tmp_path: Path) -> None:
    spec = f"csv:path={digits_csv / 'train.csv'}"
    result = _run("data", "show", spec, "-o", tmp_path / "digits.png", "--per-class", "5")
    assert result.exit_code == 0, result.output
    image = _png(tmp_path / "digits.png").convert("L")
    ink = np.asarray(image) < 100
    inked_rows = np.flatnonzero(ink[:, 40:].any(axis=1))
    assert inked_rows.max() - inked_rows.min() > 9 * 56  # ten rows of 56-pixel tiles
    assert image.size[0] >= 5 * 56


def test_data_show_refuses_a_non_png_name(digits_csv: Path, tmp_path: Path) -> None:
    result = _run("data", "show", f"csv:path={digits_csv / 'train.csv'}", "-o", tmp_path / "digits.gif")
    assert result.exit_code == 2 and ".png" in result.stderr
