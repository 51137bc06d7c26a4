"""Set-ups that cannot learn get a clear warning or usage error; the original program's set-up gets none."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from netkit.cli.main import cli
from netkit.model.network import Network
from netkit.registry import default_registry
from netkit.training.pitfalls import LearningWarning, history_problems, setup_problems
from netkit.training.trainer import EpochRecord, Trainer


def _model(hidden: str, output: str, loss: str) -> Network:
    return Network(4, [f"dense:units=3,activation={hidden}", f"dense:units=3,activation={output}"], loss)


@pytest.mark.parametrize("output", ["sigmoid", "relu", "identity", "tanh", "leaky-relu"])
def test_cross_entropy_over_outputs_that_are_not_probabilities_is_wrong(output: str) -> None:
    (problem,) = setup_problems(_model("sigmoid", output, "cross-entropy"))
    assert problem.wrong and f"output activation is {output}" in problem.message
    assert "--output-activation softmax" in problem.message


@pytest.mark.parametrize(
    ("output", "loss"), [("softmax", "cross-entropy"), ("softmax", "mse"), ("sigmoid", "mse"), ("identity", "mse")]
)
def test_fitting_outputs_and_losses_raise_nothing(output: str, loss: str) -> None:
    assert setup_problems(_model("relu", output, loss)) == []


def test_softmax_in_a_hidden_layer_is_a_warning_naming_the_layer() -> None:
    (problem,) = setup_problems(_model("softmax", "softmax", "cross-entropy"))
    assert not problem.wrong and "softmax in hidden layer 1" in problem.message


def _epochs(*pairs: tuple[float, float | None]) -> list[EpochRecord]:
    return [EpochRecord(n, loss, 1.0, accuracy, 0.1, 10.0) for n, (loss, accuracy) in enumerate(pairs, 1)]


def test_chance_level_without_a_starting_loss_names_both_directions() -> None:
    (message,) = history_problems(_epochs((2.3, 0.1012)), classes=10)
    assert "10.12% after epoch 1" in message
    assert "larger learning rate (--lr) or more epochs" in message and "a smaller one" in message
    assert history_problems(_epochs((0.5, 0.91)), classes=10) == []


def test_a_loss_growing_three_epochs_running_is_warned_about_once() -> None:
    growing = _epochs((1.0, 0.5), (1.1, 0.5), (1.2, 0.5), (1.3, 0.5), (1.4, 0.5))
    assert history_problems(growing[:3], 10) == []
    (message,) = history_problems(growing[:4], 10)
    assert "grew for 3 epochs in a row (to 1.3 at epoch 4)" in message
    assert history_problems(growing, 10) == []  # the same streak is not repeated every epoch
    assert history_problems(_epochs((1.0, 0.5), (1.1, 0.5), (1.0, 0.5), (1.2, 0.5)), 10) == []


def test_the_trainer_raises_them_as_python_warnings() -> None:
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (50, 4)).astype(np.float32), rng.integers(0, 3, 50)
    trainer = Trainer(_model("softmax", "softmax", "cross-entropy"), default_registry().create("optimizers", "adam"))
    with pytest.warns(LearningWarning, match="softmax in hidden layer"):
        trainer.fit(images, labels, 1)


def test_cli_refuses_sigmoid_output_under_cross_entropy_with_what_to_do() -> None:
    result = CliRunner().invoke(cli, ["train", "--output-activation", "sigmoid", "--epochs", "1"])
    assert result.exit_code == 2
    assert "cross-entropy needs output probabilities" in result.output and "--loss mse" in result.output


def _learnable_csv(tmp_path: Path) -> str:
    rng = np.random.default_rng(0)
    lines = []
    for index in range(400):
        label = index % 2
        pixels = rng.uniform(0, 0.2, 4)
        pixels[label * 2 : label * 2 + 2] += 0.8
        lines.append(",".join([str(label), *(f"{p:.3f}" for p in pixels)]))
    path = tmp_path / "halves.csv"
    path.write_text("\n".join(lines) + "\n")
    return f"csv:path={path}"


def test_cli_prints_the_chance_level_warning_for_a_huge_learning_rate(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--dataset",
            _learnable_csv(tmp_path),
            "--layers",
            "4",
            "--lr",
            "500",
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "m.h5"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "netkit: warning: training diverges" in result.output and "smaller learning rate (--lr)" in result.output


def test_the_original_programs_set_up_trains_without_a_warning(tmp_path: Path, data_root: Path) -> None:
    """Sigmoid output, mse and one sample per step, on MNIST as the original program trained it."""
    arguments = ["train", "--output-activation", "sigmoid", "--loss", "mse", "--optimizer", "stochastic"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", LearningWarning)  # a warning the CLI failed to print would fail here
        result = CliRunner().invoke(cli, [*arguments, "--epochs", "1", "--out", str(tmp_path / "m.h5")])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output and "epoch 1/1" in result.output
