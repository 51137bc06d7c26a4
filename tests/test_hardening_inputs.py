"""The last silent or misleading answers: each is now a clear error or a warning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from netkit.cli.main import cli
from netkit.data.images import load_image
from netkit.data.locate import search_dirs
from netkit.errors import DatasetError
from tests.data_helpers import mnist_test_pixels, write_png_tree


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


@pytest.mark.parametrize("command", [("train", "--epochs", "1"), ("evaluate",), ("data", "info", "mnist")])
def test_a_data_dir_that_does_not_exist_is_an_error_not_a_fallback(
    tmp_path: Path, data_root: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "no-such-dir"
    result = run(*command, "--data-dir", missing, *(["--out", tmp_path / "m.h5"] if command[0] == "train" else []))
    assert result.exit_code == 2
    assert f"'{missing}' does not exist" in result.stderr
    assert not (tmp_path / "m.h5").exists()  # nothing trained on $NETKIT_DATA instead


def test_a_data_dir_that_is_a_file_is_not_a_folder(tmp_path: Path, data_root: Path) -> None:
    a_file = tmp_path / "digits.txt"
    a_file.write_text("not a folder")
    result = run("train", "--epochs", "1", "--data-dir", a_file, "--out", tmp_path / "m.h5")
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == f"netkit: error: {a_file} is a file, not a folder: dataset 'mnist' is a set of files in a folder"
    )


def test_search_dirs_refuses_a_missing_data_dir(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        search_dirs("mnist", tmp_path / "gone")


BLANK_IMAGES = {
    "all white": Image.new("L", (40, 40), 255),
    "all black": Image.new("L", (40, 40), 0),
    "one pixel": Image.new("RGB", (1, 1), (255, 255, 255)),
    "transparent": Image.new("RGBA", (28, 28), (0, 0, 0, 0)),
}


@pytest.mark.parametrize("name", BLANK_IMAGES)
def test_a_blank_image_is_answered_with_a_no_ink_warning(tmp_path: Path, name: str) -> None:
    path = tmp_path / "blank.png"
    BLANK_IMAGES[name].save(path)
    result = run("predict", path, "--json")
    assert result.exit_code == 0
    assert result.stderr.strip() == f"netkit: warning: {path}: no ink found (a blank image); its answer means nothing"
    assert len(json.loads(result.stdout)) == 1  # the answer is still given, and still valid JSON


def test_an_image_with_ink_gets_no_warning(tmp_path: Path, mnist_dir: Path) -> None:
    pixels, _ = mnist_test_pixels(mnist_dir)
    path = tmp_path / "digit.png"
    Image.fromarray(pixels[0]).save(path)
    result = run("predict", path, "--json")
    assert result.exit_code == 0 and result.stderr == ""


def test_a_float_tiff_with_a_few_nan_pixels_keeps_its_digit(tmp_path: Path, mnist_dir: Path) -> None:
    pixels, _ = mnist_test_pixels(mnist_dir)
    digit = pixels[0].astype(np.float32) / 255
    clean, holed = tmp_path / "clean.tif", tmp_path / "holed.tif"
    Image.fromarray(digit, "F").save(clean)
    with_nan = digit.copy()
    with_nan[[0, 3, 27], [5, 20, 27]] = np.nan  # a few missing pixels, in the background
    with_nan[14, 14] = np.inf
    Image.fromarray(with_nan, "F").save(holed)
    expected, got = load_image(clean), load_image(holed)
    assert np.isfinite(got).all()
    assert got.max() > 0.9  # the digit is still there...
    assert np.abs(got - expected).max() < 0.5 and np.abs(got - expected).mean() < 0.01  # ...and barely changed


@pytest.fixture
def own_digits(tmp_path: Path, mnist_dir: Path) -> Path:
    """50 MNIST test digits as PNGs in class folders, with no train/test split: a user's own folder."""
    pixels, labels = mnist_test_pixels(mnist_dir)
    root = tmp_path / "my-digits"
    write_png_tree(root, pixels[:50], labels[:50])
    return root


def test_evaluating_a_folder_of_ones_own_digits_scores_every_image(own_digits: Path) -> None:
    result = run("evaluate", "--dataset", "png-folder:cache=false", "--data-dir", own_digits, "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["n"] == 50 and scores["scored"] == "all"
    assert sum(map(sum, scores["confusion"])) == 50


def test_the_held_out_part_only_is_said_loudly(own_digits: Path) -> None:
    result = run("evaluate", "--dataset", "png-folder:cache=false", "--data-dir", own_digits, "--test-images")
    assert result.exit_code == 0, result.output
    assert "scored only the seeded held-out 10 of 50 images" in " ".join(result.stdout.split())
