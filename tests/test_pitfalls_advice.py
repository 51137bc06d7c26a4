"""Warnings that point the right way: slow runs told to speed up, diverging runs told at any epoch, inputs on
the wrong scale, the shipped model named as such, and a model scored on another dataset."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import netkit as nk
from netkit.cli.main import cli
from netkit.data import Dataset
from netkit.errors import InputRangeWarning, NetkitWarning
from netkit.model.network import Network
from netkit.registry import default_registry
from netkit.training.pitfalls import LearningWarning, history_problems
from netkit.training.trainer import EpochRecord, Trainer
from tests.data_helpers import halves


def _epochs(*pairs: tuple[float, float | None]) -> list[EpochRecord]:
    return [EpochRecord(n, loss, 1.0, accuracy, 0.1, 10.0) for n, (loss, accuracy) in enumerate(pairs, 1)]


def _halves_csv(tmp_path: Path) -> str:
    images, labels = halves()
    lines = [",".join([str(label), *(f"{p:.3f}" for p in row)]) for row, label in zip(images, labels, strict=True)]
    path = tmp_path / "halves.csv"
    path.write_text("\n".join(lines) + "\n")
    return f"csv:path={path}"


def test_a_slow_start_is_told_to_use_a_larger_rate_or_more_epochs() -> None:
    # Full-batch: one step an epoch, so after epoch 1 the loss is still its starting value.
    (message,) = history_problems(_epochs((2.30, 0.11)), classes=10, starting_loss=2.30)
    assert "larger learning rate (--lr) or more epochs" in message and "smaller" not in message


def test_full_batch_at_chance_after_one_epoch_is_told_to_speed_up(tmp_path: Path) -> None:
    arguments = ["train", "--dataset", _halves_csv(tmp_path), "--layers", "4", "--optimizer", "full-batch"]
    result = CliRunner().invoke(cli, [*arguments, "--lr", "0.01", "--epochs", "1", "--out", str(tmp_path / "m.h5")])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("netkit: warning:")]
    assert "larger learning rate (--lr) or more epochs" in line and "smaller" not in line


def test_divergence_is_warned_at_whatever_epoch_it_begins() -> None:
    # Epoch 1 learns; epoch 2's loss rises above the start and accuracy falls back to chance.
    (message,) = history_problems(_epochs((0.4, 0.9), (3.0, 0.49)), classes=2, starting_loss=0.7)
    assert "above its starting 0.7" in message and "fell to 49.00% at epoch 2" in message
    assert "smaller learning rate (--lr)" in message
    # Accuracy falling to chance alone is divergence too, and it is said once, not every epoch after.
    (message,) = history_problems(_epochs((0.4, 0.9), (0.6, 0.5)), classes=2, starting_loss=0.7)
    assert "fell to 50.00% at epoch 2" in message
    assert history_problems(_epochs((0.4, 0.9), (0.6, 0.5), (0.65, 0.5)), classes=2, starting_loss=0.7) == []


def test_a_run_whose_rate_jumps_after_an_epoch_warns_at_that_epoch() -> None:
    images, labels = halves()
    network = Network(4, ["dense:units=4,activation=relu", "dense:units=2,activation=softmax"], "cross-entropy")
    trainer = Trainer(network, default_registry().create("optimizers", "mini-batch:learning_rate=0.5"))
    validation = (images[:100], labels[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("error", LearningWarning)
        trainer.fit(images[100:], labels[100:], 1, validation)  # learns: no warning
    trainer.optimizer.learning_rate = 1e6
    with pytest.warns(LearningWarning, match=r"training diverges: .* at epoch 2"):
        trainer.fit(images[100:], labels[100:], 1, validation)


def test_a_huge_learning_rate_on_mnist_is_called_diverging(mnist: Dataset) -> None:
    images, labels = mnist.train_images[:3000], mnist.train_labels[:3000]
    model = nk.Sequential([nk.Dense(16, "sigmoid"), nk.Dense(10, "softmax")], input_size=784, seed=0)
    with pytest.warns(LearningWarning, match=r"training diverges: the training loss rose to .* above its starting"):
        model.fit(images, labels, epochs=1, learning_rate=1e9, progress=False)


def test_fit_and_predict_warn_about_raw_pixels(mnist: Dataset) -> None:
    images, labels = mnist.train_images[:500], mnist.train_labels[:500]
    model = nk.Sequential([nk.Dense(8, "relu"), nk.Dense(10, "softmax")], input_size=784, seed=0)
    with pytest.warns(InputRangeWarning, match=r"inputs range over 0\.\.255, outside \[0, 1\].*divide .* by 255"):
        model.fit(images * 255, labels, epochs=1, progress=False)
    as_bytes = np.round(images * 255).astype(np.uint8)
    with pytest.warns(InputRangeWarning, match="by 255"):
        model.predict(as_bytes)
    with pytest.warns(InputRangeWarning, match=r"-1\.\.1"):
        model.predict_proba(images * 2 - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetkitWarning)  # data on the right scale: silent
        model.predict(images)
        model.evaluate(images, labels)


def test_the_range_warning_names_the_callers_line_not_netkits(mnist: Dataset) -> None:
    images, labels = mnist.train_images[:200] * 255, mnist.train_labels[:200]
    model = nk.Sequential([nk.Dense(8, "relu"), nk.Dense(10, "softmax")], input_size=784, seed=0)
    calls = {
        "fit": lambda: model.fit(images, labels, epochs=1, progress=False),
        "predict": lambda: model.predict(images),
        "predict_proba": lambda: model.predict_proba(images),
        "evaluate": lambda: model.evaluate(images, labels),
    }
    for name, call in calls.items():
        with pytest.warns(InputRangeWarning) as caught:
            call()
        assert {Path(record.filename).name for record in caught} == {Path(__file__).name}, name


def test_train_warns_about_a_dataset_outside_the_unit_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    images, labels = halves()
    raw = Dataset("raw", images[:300] * 255, labels[:300], images[300:] * 255, labels[300:], ("a", "b"), (2, 2))
    monkeypatch.setattr("netkit.cli.train.load_dataset", lambda *arguments: raw)
    result = CliRunner().invoke(cli, ["train", "--layers", "4", "--epochs", "1", "--out", str(tmp_path / "m.h5")])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if "outside [0, 1]" in line]
    assert len(warned) == 1 and warned[0].startswith("netkit: warning: inputs range over")


@pytest.mark.parametrize("command", [["evaluate"], ["predict", "seven.png"]])
def test_commands_without_a_model_say_first_that_they_use_the_shipped_one(
    command: list[str], data_root: Path, tmp_path: Path
) -> None:
    from PIL import Image

    seven = np.zeros((28, 28), dtype=np.uint8)
    seven[6, 8:20], seven[6:22, 18] = 255, 255
    Image.fromarray(seven).save(tmp_path / "seven.png")
    arguments = [*command[:1], *(str(tmp_path / name) for name in command[1:])]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert "shipped pre-trained model" in first and f"netkit {command[0]} model.h5" in first


def test_a_named_model_gets_no_shipped_model_note(tmp_path: Path, data_root: Path) -> None:
    from netkit.pretrained import pretrained_model_path

    result = CliRunner().invoke(cli, ["evaluate", str(pretrained_model_path()), "--json"])
    assert result.exit_code == 0 and "shipped" not in result.output


def test_scoring_a_model_on_another_named_dataset_warns(monkeypatch: pytest.MonkeyPatch, data_root: Path) -> None:
    mnist = nk.datasets.load("mnist")
    shirts = Dataset("fashion-mnist", *(mnist.train_images[:10], mnist.train_labels[:10]) * 2, tuple("abcdefghij"))
    monkeypatch.setattr("netkit.cli.evaluate.load_dataset", lambda *arguments: shirts)
    result = CliRunner().invoke(cli, ["evaluate", "--dataset", "fashion-mnist"])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("netkit: warning:")]
    assert "trained on mnist, not fashion-mnist" in line


def test_scoring_the_mnist_model_on_ones_own_digits_does_not_warn(data_root: Path) -> None:
    folder = data_root / "seed-digits"
    result = CliRunner().invoke(cli, ["evaluate", "--dataset", f"png-folder:path={folder}", "--json"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
