"""``netkit finetune``: the shipped model learns the seed digits it misreads and keeps reading MNIST.

The personal folder holds the eight digits of the original program's data (``seed-digits``, RGBA with the ink
in the alpha channel) that the shipped model gets wrong: a 3 and two 4s it reads as 9, five 7s it reads as 3.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from netkit.cli.main import cli
from netkit.data import Dataset
from netkit.io import load_model
from netkit.model.evaluation import evaluate
from netkit.pretrained import pretrained_model_path
from netkit.training.finetune import FinetuneOptions, finetune, personal_digits

MISREAD_SEED_DIGITS = ["3/3/10091", "4/4/10030", "4/4/10081", "7/7/10004", "7/7/10016", "7/7/10026", "7/7/10045",
                       "7/7/10099"]  # fmt: skip
# How far the MNIST test accuracy may move: the promise of fine-tuning with MNIST rows mixed in.
MNIST_TOLERANCE = 0.005


def _run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def misread(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mine")
    for name in MISREAD_SEED_DIGITS:
        digit = name.split("/")[0]
        (folder / digit).mkdir(exist_ok=True)
        shutil.copy(data_root / "seed-digits" / f"{name}.png", folder / digit)
    return folder


@pytest.fixture(scope="module")
def shipped_mnist_accuracy(mnist: Dataset) -> float:
    return evaluate(load_model(pretrained_model_path()).model, mnist.test_images, mnist.test_labels).accuracy


def test_finetuned_model_reads_the_misread_digits_and_keeps_mnist(
    misread: Path, tmp_path: Path, mnist: Dataset, shipped_mnist_accuracy: float
) -> None:
    out = tmp_path / "mine.h5"
    result = _run("finetune", "shipped", misread, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["before"]["personal"] == 0.0  # every one of them misread by the shipped model
    assert report["after"]["personal"] == 1.0
    assert report["before"]["test"] == pytest.approx(shipped_mnist_accuracy)
    # The saved file, read back, is the model the report is about.
    answers = json.loads(_run("predict", out, *sorted(misread.rglob("*.png")), "--json").output)
    assert [answer["digit"] for answer in answers] == [int(Path(a["image"]).parent.name) for a in answers]
    after = evaluate(load_model(out).model, mnist.test_images, mnist.test_labels).accuracy
    assert after == pytest.approx(report["after"]["test"])
    assert abs(after - shipped_mnist_accuracy) <= MNIST_TOLERANCE


def test_result_line_shows_both_accuracies_before_and_after(misread: Path, tmp_path: Path) -> None:
    result = _run("finetune", "shipped", misread, "--out", tmp_path / "mine.h5", "--epochs", "1")
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert "\n" not in line
    assert f"{misread}: 0.00% → " in line and "of 8 digits" in line and "mnist test: 96.38% → " in line


def test_shown_once_per_epoch_the_digits_stay_misread(misread: Path, tmp_path: Path) -> None:
    """Why the personal digits are repeated: eight rows among 10,000 barely move the weights."""
    result = _run("finetune", "shipped", misread, "--out", tmp_path / "once.h5", "--repeat", "1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["after"]["personal"] < 1.0


def test_the_original_model_is_left_as_it_was(misread: Path, mnist: Dataset) -> None:
    model_file = load_model(pretrained_model_path())
    before = model_file.model.parameters.copy()
    images, labels = personal_digits(misread, 10)
    result = finetune(model_file, images, labels, mnist, FinetuneOptions(epochs=1, mix=500))
    np.testing.assert_array_equal(model_file.model.parameters, before)
    assert not np.array_equal(result.model_file.model.parameters, before)
    assert result.model_file.training["finetune"]["personal"] == 8
    assert len(result.model_file.history.epochs) == len(model_file.history.epochs) + 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root, "holds no class folders"),
        (lambda root: root / "missing", "image folder not found"),
        (lambda root: (root / "cat").mkdir() or (root / "3").mkdir() or root, "holds no images"),
    ],
)
def test_bad_or_empty_folders_are_one_line_errors(tmp_path: Path, make: object, message: str) -> None:
    root = tmp_path / "digits"
    root.mkdir()
    folder = make(root)  # type: ignore[operator]
    result = _run("finetune", "shipped", folder, "--out", tmp_path / "out.h5")
    assert result.exit_code == 1
    assert message in result.output and result.output.count("\n") == 1
    assert not (tmp_path / "out.h5").exists()


def test_a_class_folder_that_is_no_digit_is_refused(misread: Path, tmp_path: Path) -> None:
    folder = tmp_path / "digits"
    shutil.copytree(misread / "7", folder / "seven")
    result = _run("finetune", "shipped", folder, "--out", tmp_path / "out.h5")
    assert result.exit_code == 1
    assert "class folders must be digits 0..9" in result.output and "seven" in result.output


def test_missing_model_and_existing_out_are_refused(misread: Path, tmp_path: Path) -> None:
    missing = _run("finetune", tmp_path / "nothing.h5", misread, "--out", tmp_path / "out.h5")
    assert missing.exit_code == 1 and "no such file" in missing.output
    out = tmp_path / "kept.h5"
    out.write_bytes(b"mine")
    refused = _run("finetune", "shipped", misread, "--out", out, "--epochs", "1")
    assert refused.exit_code == 1 and "--force" in refused.output
    assert out.read_bytes() == b"mine"
    forced = _run("finetune", "shipped", misread, "--out", out, "--epochs", "1", "--force")
    assert forced.exit_code == 0, forced.output
    assert load_model(out).training["finetune"]["epochs"] == 1


def test_usage_errors_exit_2(misread: Path, tmp_path: Path) -> None:
    assert _run("finetune", "shipped", misread).exit_code == 2  # no --out
    assert _run("finetune", "shipped", misread, "--out", tmp_path / "o.h5", "--epochs", "0").exit_code == 2
