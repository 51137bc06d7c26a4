"""``netkit trace``: one learning step on an image, as JSON and as a terminal view that fits 80 columns."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image, ImageDraw

from netkit.cli.main import cli
from netkit.pretrained import pretrained_model_path

from .test_trace import PROMISED_KEYS


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dark-on-light "1", the way a person draws it in a paint program."""
    image = Image.new("L", (120, 160), 255)
    ImageDraw.Draw(image).line([(60, 20), (60, 140)], fill=0, width=14)
    path = tmp_path_factory.mktemp("images") / "one.png"
    image.save(path)
    return path


def _run(*args: object, columns: int = 80) -> Result:
    return CliRunner().invoke(cli, ["trace", *map(str, args)], env={"COLUMNS": str(columns)})


def test_trace_json_has_the_promised_keys_and_leaves_the_file_alone(digit_png: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.h5"
    shutil.copy(pretrained_model_path(), model)
    before = hashlib.sha256(model.read_bytes()).hexdigest()
    result = _run(model, digit_png, "--label", 7, "--unit", "dense_2:3", "--lr", 0.1, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(PROMISED_KEYS) <= set(data)
    assert [layer["name"] for layer in data["layers"]] == ["dense_1", "dense_2", "dense_3"]
    for layer in data["layers"]:
        for key in ("name", "input_shape", "output_shape", "z", "a", "dL_da", "dL_dz", "dL_dW", "dL_db"):
            assert key in layer
    assert data["learning_rate"] == 0.1 and data["unit"]["layer"] == "dense_2" and data["unit"]["unit"] == 3
    assert data["unit"]["z"] == data["layers"][1]["z"][0][3]
    assert data["loss_after"] < data["loss_before"]  # one step towards the label lowers its loss
    assert hashlib.sha256(model.read_bytes()).hexdigest() == before


def test_the_terminal_view_fits_80_columns(digit_png: Path) -> None:
    result = _run(digit_png, "--label", 1, "--unit", "3:1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    for expected in ("dense_1", "dL/dW = xᵀ · dL/dz", "(784, 1) · (1, 16) → (784, 16)", "the step", "dense_3 unit 1"):
        assert expected in result.stdout


def test_full_shows_whole_arrays(digit_png: Path) -> None:
    short, full = _run(digit_png, "--label", 1), _run(digit_png, "--label", 1, "--full")
    assert full.exit_code == 0 and len(full.stdout.splitlines()) > len(short.stdout.splitlines()) + 100


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["--label", "1", "--unit", "3:99"], 2, "dense_3 has units 0..9, not 99"),
        (["--label", "1", "--unit", "9:0"], 2, "no layer 9"),
        (["--label", "12"], 2, "label 12 is not a class of this model: its classes are 0..9"),
        (["--label", "1", "--lr", "-1"], 2, "the learning rate must be positive"),
    ],
)
def test_bad_input_is_a_usage_error(digit_png: Path, arguments: list[str], code: int, message: str) -> None:
    result = _run(digit_png, *arguments)
    assert result.exit_code == code and message in result.stderr


def test_an_image_netkit_cannot_read_is_one_line_with_exit_1(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    result = _run(broken, "--label", 1)
    assert result.exit_code == 1 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("netkit: error: ")
