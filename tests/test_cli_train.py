"""``netkit train`` and ``netkit evaluate`` on the real MNIST (found through NETKIT_DATA), one epoch at a time."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from netkit.cli.main import cli
from netkit.io import load_model
from netkit.training.trainer import Trainer

EPOCH_LINE = re.compile(
    r"^epoch +(\d+)/(\d+)  train_loss \d+\.\d{4}  train_acc \d+\.\d\d%  "
    r"val_loss (\d+\.\d{4}|—)  val_acc (\d+\.\d\d%|—)  "
    r"\d+\.\d\ds  [\d.]+[kM]? samples/s(  lr [\d.e-]+)?$"
)


def _run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


@pytest.fixture(autouse=True)
def _mnist_through_netkit_data(data_root: Path) -> None:
    """Every test here reads MNIST from NETKIT_DATA (the conftest fixture fails early without it)."""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One epoch of the seed net, trained once for the module: its file and its --json result."""
    out = tmp_path_factory.mktemp("train") / "seed.h5"
    result = _run("train", "--epochs", "1", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_json_result_has_history_and_test_accuracy(trained: tuple[Path, dict[str, Any]]) -> None:
    out, result = trained
    assert result["model"] == str(out)
    assert result["architecture"] == "784-16-16-10 (sigmoid, softmax)"
    (epoch,) = result["history"]["epochs"]
    assert set(epoch) >= {"epoch", "train_loss", "val_loss", "val_accuracy", "seconds", "samples_per_second"}
    assert epoch["epoch"] == 1 and 0.85 < epoch["val_accuracy"] <= 1
    assert len(result["history"]["iteration_loss"]) == 1688  # 54,000 rows in batches of 32
    assert 0.85 < result["test_accuracy"] <= 1


def test_the_model_is_saved_with_its_training_options(trained: tuple[Path, dict[str, Any]]) -> None:
    model_file = load_model(trained[0])
    assert model_file.training["dataset"] == "mnist" and model_file.training["seed"] == 0
    # The default recipe (see cli/train.py): momentum at 0.1, batch 32, and a learning-rate schedule.
    assert model_file.training["optimizer"]["type"] == "momentum"
    assert model_file.training["optimizer"]["learning_rate"] == 0.1
    assert model_file.training["optimizer"]["batch_size"] == 32
    assert model_file.training["schedule"] == {"type": "exponential", "warmup": 0, "decay": 0.7}
    assert len(model_file.history.epochs) == 1


def test_without_a_terminal_it_prints_one_plain_line_per_epoch(tmp_path: Path) -> None:
    result = _run("train", "--epochs", "2", "--validation", "0", "--layers", "8", "--out", tmp_path / "m.h5")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("training 784-8-10 (sigmoid, softmax)") and "60,000 train / 0 validation" in lines[0]
    epochs = [EPOCH_LINE.match(line) for line in lines[1:3]]
    assert all(epochs), lines
    assert [m.group(1) for m in epochs if m] == ["1", "2"]
    assert "val_loss —" in lines[1]  # no validation set
    assert lines[3].startswith("test accuracy ") and "2 epochs" in lines[3]
    assert len(lines) == 4


def test_quiet_prints_only_the_result_line(tmp_path: Path) -> None:
    out = tmp_path / "m.pkl"
    result = _run("train", "--epochs", "1", "--layers", "none", "--validation", "1000", "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert line.startswith("test accuracy ") and "784-10 (softmax)" in line
    assert load_model(out).training["validation"] == 1000  # a count of rows, not a fraction


def test_an_existing_model_is_never_overwritten_by_accident(trained: tuple[Path, dict[str, Any]]) -> None:
    out = trained[0]
    before = out.read_bytes()
    result = _run("train", "--epochs", "1", "--out", out)
    assert result.exit_code == 1
    assert result.stderr == f"netkit: error: {out} exists; use --resume to continue it or --reset to start over\n"
    assert out.read_bytes() == before


def test_reset_starts_over(trained: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "again.h5"
    shutil.copy(trained[0], out)
    result = _run("train", "--epochs", "1", "--layers", "4", "--reset", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    model_file = load_model(out)
    assert repr(model_file.model) == "784-4-10 (sigmoid, softmax)" and len(model_file.history.epochs) == 1


def test_resume_continues_the_epoch_numbers_and_the_history(
    trained: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "resumed.h5"
    shutil.copy(trained[0], out)
    result = _run("train", "--resume", "--epochs", "1", "--out", out)
    assert result.exit_code == 0, result.output
    assert any(line.startswith("epoch 2/2 ") for line in result.stdout.splitlines())
    history = load_model(out).history
    assert [record.epoch for record in history.epochs] == [1, 2]
    assert len(history.iteration_loss) == 2 * 1688
    assert history.epochs[0] == load_model(trained[0]).history.epochs[0]


def test_resume_refuses_options_that_contradict_the_file(trained: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "resumed.h5"
    shutil.copy(trained[0], out)
    result = _run("train", "--resume", "--out", out, "--layers", "32", "--seed", "7", "--activation", "relu")
    assert result.exit_code == 1
    message = result.stderr
    assert "--layers 32 (the file has 16,16)" in message and "--seed 7 (the file has 0)" in message
    assert "--activation relu" in message and "--reset" in message
    assert message.count("\n") == 1
    # Options that agree with the file are fine.
    agreeing = _run("train", "--resume", "--out", out, "--layers", "16,16", "--lr", "0.1", "--epochs", "1", "-q")
    assert agreeing.exit_code == 0, agreeing.output


def test_resume_needs_an_existing_file(tmp_path: Path) -> None:
    result = _run("train", "--resume", "--out", tmp_path / "nothing.h5")
    assert result.exit_code == 1 and "nothing to resume" in result.stderr


def test_format_overrides_the_extension(tmp_path: Path) -> None:
    out = tmp_path / "model.h5"
    result = _run("train", "--epochs", "1", "--layers", "none", "--format", "pickle", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:1] == b"\x80"  # a pickle's PROTO opcode, not HDF5's signature


def test_unknown_output_extension_fails_before_training(tmp_path: Path) -> None:
    result = _run("train", "--out", tmp_path / "model.onnx")
    assert result.exit_code == 1 and ".onnx" in result.stderr


def test_ctrl_c_keeps_the_last_finished_epoch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_epoch = Trainer._run_epoch

    def interrupted_in_epoch_two(self: Trainer, *args: Any) -> None:
        if self.epochs_done == 1:
            raise KeyboardInterrupt
        run_epoch(self, *args)

    monkeypatch.setattr(Trainer, "_run_epoch", interrupted_in_epoch_two)
    out = tmp_path / "m.h5"
    result = _run("train", "--epochs", "5", "--layers", "none", "--out", out)
    assert result.exit_code == 130
    assert f"{out} holds epoch 1 (continue with --resume)" in result.stderr
    assert len(load_model(out).history.epochs) == 1


def test_diverging_training_is_a_one_line_error(tmp_path: Path) -> None:
    args = ["--activation", "relu", "--output-activation", "identity", "--loss", "mse", "--lr", "100"]
    result = _run("train", "--epochs", "1", *args, "--out", tmp_path / "m.h5")
    assert result.exit_code == 1
    assert result.stderr.startswith("netkit: error: the loss became") and result.stderr.count("\n") == 1


def test_missing_data_with_no_download_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETKIT_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = _run("train", "--no-download", "--out", tmp_path / "m.h5")
    assert result.exit_code == 1
    assert result.stderr.startswith("netkit: error: mnist:") and "netkit data download mnist" in result.stderr


# -- evaluate --------------------------------------------------------------------------------------------


def test_evaluate_json_agrees_with_training(trained: tuple[Path, dict[str, Any]]) -> None:
    out, training = trained
    result = _run("evaluate", out, "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["accuracy"] == training["test_accuracy"]
    assert scores["n"] == 10_000 and scores["dataset"] == "mnist"
    assert len(scores["confusion"]) == 10 and sum(map(sum, scores["confusion"])) == 10_000
    assert sum(scores["confusion"][i][i] for i in range(10)) == round(scores["accuracy"] * 10_000)
    assert scores["loss"] > 0 and len(scores["precision"]) == len(scores["recall"]) == 10


def test_evaluate_shows_accuracy_and_the_confusion_matrix(trained: tuple[Path, dict[str, Any]]) -> None:
    result = _run("evaluate", trained[0])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.stdout and "confusion matrix" in result.stdout
    assert "precision" in result.stdout and "recall" in result.stdout


def test_evaluate_without_a_model_uses_the_shipped_one() -> None:
    result = _run("evaluate", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] >= 0.95


def test_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    straight, stopped = tmp_path / "straight.h5", tmp_path / "stopped.h5"
    assert _run("train", "--epochs", "2", "--layers", "8", "--out", straight, "--quiet").exit_code == 0
    assert _run("train", "--epochs", "1", "--layers", "8", "--out", stopped, "--quiet").exit_code == 0
    assert _run("train", "--resume", "--epochs", "1", "--out", stopped, "--quiet").exit_code == 0
    a, b = load_model(straight), load_model(stopped)
    np.testing.assert_array_equal(a.model.parameters, b.model.parameters)
    assert a.history.iteration_loss == b.history.iteration_loss
    assert [(r.epoch, r.train_loss, r.val_loss) for r in a.history.epochs] == [
        (r.epoch, r.train_loss, r.val_loss) for r in b.history.epochs
    ]


def test_evaluate_refuses_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    fake = tmp_path / "model.h5"
    fake.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    result = _run("evaluate", fake)
    assert result.exit_code == 1 and "model.h5" in result.stderr and result.stderr.count("\n") == 1


# -- the real console script -----------------------------------------------------------------------------


def _installed_script() -> list[str]:
    script = shutil.which("netkit", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "netkit.cli.main"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_in_a_real_process_saves_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "m.h5"
    process = subprocess.Popen(
        [*_installed_script(), "train", "--epochs", "1000", "--layers", "none", "--out", str(out), "--no-download"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not out.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "holds epoch" in stderr and "--resume" in stderr
    assert stdout.startswith("training 784-10") and re.search(r"^epoch +1/1000 ", stdout, flags=re.M)
    assert len(load_model(out).history.epochs) >= 1
