"""``inspect``, ``export`` and ``predict`` on model files made in-process (no dataset needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image, ImageDraw

from netkit.cli.main import cli
from netkit.io import ModelFile, load_model, save_model
from netkit.model.network import Network
from netkit.registry import default_registry
from netkit.training.trainer import Trainer

SEED_NET = [
    {"type": "dense", "units": 16, "activation": "sigmoid"},
    {"type": "dense", "units": 16, "activation": "sigmoid"},
    {"type": "dense", "units": 10, "activation": "softmax"},
]


def _trained(path: Path, inputs: int = 784, layers: list[dict[str, object]] = SEED_NET) -> Path:
    rng = np.random.default_rng(0)
    trainer = Trainer(
        Network(inputs, layers, "cross-entropy", rng), default_registry().create("optimizers", "mini-batch")
    )
    images = rng.random((256, inputs), dtype=np.float32)
    labels = rng.integers(0, 10, 256)
    trainer.fit(images, labels, 2, (images[:32], labels[:32]))
    save_model(ModelFile.from_trainer(trainer, {"dataset": "mnist", "seed": 0, "validation": 0.1}), path)
    return path


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _trained(tmp_path_factory.mktemp("models") / "seed.h5")


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layers = [{"type": "dense", "units": 10, "activation": "softmax"}]
    return _trained(tmp_path_factory.mktemp("models") / "small.pkl", inputs=20, layers=layers)


def _run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


# -- inspect ---------------------------------------------------------------------------------------------


def test_inspect_shows_layers_parameters_and_history(seed_model: Path) -> None:
    result = _run("inspect", seed_model)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "784-16-16-10 (sigmoid, softmax)" in out
    assert "13,002" in out  # the seed net's parameter count
    assert "weight 784x16" in out and "12,560" in out
    assert "hdf5" in out and "netkit-model v2" in out
    assert "2 epochs" in out and "loss per iteration" in out and "loss per epoch" in out


def test_inspect_neuron_draws_a_heat_map_with_a_legend(seed_model: Path) -> None:
    result = _run("inspect", seed_model, "--neuron", "3")
    assert result.exit_code == 0, result.output
    assert "neuron 3" in result.stdout
    assert "99th percentile of |w|" in result.stdout and "range [" in result.stdout
    picture = [line for line in result.stdout.splitlines() if len(line) == 56 and set(line) <= set("=- +#")]
    assert len(picture) == 28  # without colour: two characters per weight, one line per row


def test_inspect_neuron_reads_a_model_built_on_images(tmp_path: Path) -> None:
    """netkit train builds on (1, 28, 28), so the first layer is a flatten: the first dense layer is drawn."""
    rng = np.random.default_rng(0)
    model = Network((1, 28, 28), SEED_NET, "cross-entropy", rng)
    trainer = Trainer(model, default_registry().create("optimizers", "mini-batch"))
    trainer.fit(rng.random((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64), 1)
    save_model(ModelFile.from_trainer(trainer), tmp_path / "images.h5")
    result = _run("inspect", tmp_path / "images.h5", "--neuron", "3")
    assert result.exit_code == 0, result.output
    picture = [line for line in result.stdout.splitlines() if len(line) == 56 and set(line) <= set("=- +#")]
    assert len(picture) == 28


@pytest.mark.parametrize("neuron", ["16", "-1"])
def test_inspect_neuron_out_of_range_names_the_valid_range(seed_model: Path, neuron: str) -> None:
    result = _run("inspect", seed_model, "--neuron", neuron)
    assert result.exit_code == 1
    assert "0 to 15" in result.stderr and result.stdout == ""


def test_inspect_neuron_needs_28x28_inputs(small_model: Path) -> None:
    result = _run("inspect", small_model, "--neuron", "0")
    assert result.exit_code == 1
    assert "28x28" in result.stderr and "20" in result.stderr


def test_inspect_refuses_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    fake = tmp_path / "fake.h5"
    fake.write_text("hello")
    result = _run("inspect", fake)
    assert result.exit_code == 1
    assert result.stderr.startswith("netkit: error: ") and "fake.h5" in result.stderr


# -- export ----------------------------------------------------------------------------------------------


def test_export_converts_and_keeps_everything(seed_model: Path, tmp_path: Path) -> None:
    target = tmp_path / "seed.pkl"
    result = _run("export", seed_model, target)
    assert result.exit_code == 0, result.output
    assert "pickle" in result.stdout
    original, copy = load_model(seed_model), load_model(target)
    np.testing.assert_array_equal(original.model.parameters, copy.model.parameters)
    assert copy.history.iteration_loss == original.history.iteration_loss
    assert copy.training == original.training


def test_export_does_not_overwrite_without_force(seed_model: Path, tmp_path: Path) -> None:
    target = tmp_path / "exists.pkl"
    target.write_text("precious")
    result = _run("export", seed_model, target)
    assert result.exit_code == 1 and "--force" in result.stderr
    assert target.read_text() == "precious"
    assert _run("export", seed_model, target, "--force").exit_code == 0


def test_export_rejects_an_unknown_extension(seed_model: Path, tmp_path: Path) -> None:
    result = _run("export", seed_model, tmp_path / "model.tflite")
    assert result.exit_code == 1 and ".tflite" in result.stderr


# -- predict ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dark-on-light "1", the way a person draws it in a paint program."""
    image = Image.new("L", (120, 160), 255)
    ImageDraw.Draw(image).line([(60, 20), (60, 140)], fill=0, width=14)
    path = tmp_path_factory.mktemp("images") / "one.png"
    image.save(path)
    return path


def test_predict_json_lists_digit_and_probabilities(seed_model: Path, digit_png: Path) -> None:
    result = _run("predict", seed_model, digit_png, digit_png, "--json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [record["image"] for record in records] == [str(digit_png)] * 2
    for record in records:
        assert len(record["probabilities"]) == 10
        assert abs(sum(record["probabilities"]) - 1) < 1e-5
        assert record["digit"] == int(np.argmax(record["probabilities"]))


def test_predict_takes_the_model_as_an_option_or_anywhere_by_extension(seed_model: Path, digit_png: Path) -> None:
    first = json.loads(_run("predict", "--model", seed_model, digit_png, "--json").stdout)
    last = json.loads(_run("predict", digit_png, seed_model, "--json").stdout)
    assert first == last


def test_predict_shows_the_input_the_network_saw(seed_model: Path, digit_png: Path) -> None:
    result = _run("predict", seed_model, digit_png)
    assert result.exit_code == 0, result.output
    assert "likely digit" in result.stdout and "%" in result.stdout
    assert "█" in result.stdout  # the preprocessed 28x28 input, drawn with half blocks


def test_predict_without_preprocessing_still_works(seed_model: Path, digit_png: Path) -> None:
    result = _run("predict", seed_model, digit_png, "--no-preprocess", "--json")
    assert result.exit_code == 0, result.output


def test_predict_missing_image_is_exit_1(seed_model: Path, tmp_path: Path) -> None:
    result = _run("predict", seed_model, tmp_path / "nothing.png")
    assert result.exit_code == 1
    assert "nothing.png" in result.stderr and result.stderr.count("\n") == 1


def test_predict_unreadable_image_is_exit_1(seed_model: Path, tmp_path: Path) -> None:
    text = tmp_path / "x.png"
    text.write_text("this is not a picture")
    result = _run("predict", seed_model, text)
    assert result.exit_code == 1
    assert "x.png" in result.stderr and result.stderr.startswith("netkit: error: ")


def test_predict_needs_an_image(seed_model: Path) -> None:
    assert _run("predict", seed_model).exit_code == 2


def test_predict_refuses_two_models(seed_model: Path, digit_png: Path) -> None:
    result = _run("predict", seed_model, "--model", seed_model, digit_png)
    assert result.exit_code == 1 and "more than one model" in result.stderr


def test_predict_refuses_a_model_not_made_for_28x28_images(small_model: Path, digit_png: Path) -> None:
    result = _run("predict", small_model, digit_png)
    assert result.exit_code == 1 and "28x28" in result.stderr


def test_predict_refuses_a_non_model_file_as_model(tmp_path: Path, digit_png: Path) -> None:
    fake = tmp_path / "weights.pkl"
    fake.write_bytes(b"\x80\x04K\x01.")  # a pickle of the number 1
    result = _run("predict", fake, digit_png)
    assert result.exit_code == 1 and "weights.pkl" in result.stderr


def test_predict_without_a_model_uses_the_shipped_one(digit_png: Path) -> None:
    result = _run("predict", digit_png, "--json")
    if result.exit_code == 1:  # until the package ships its pre-trained model
        assert "no pre-trained model shipped" in result.stderr
    else:
        assert result.exit_code == 0 and json.loads(result.stdout)[0]["image"] == str(digit_png)
