"""The defaults on the real MNIST: `netkit train --epochs 5` with no other option reaches 95% on the test set,
and `--optimizer mini-batch --lr 0.5` still trains exactly as netkit did before the default recipe."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from netkit.cli.main import cli


def _train(tmp_path: Path, *options: str) -> dict:
    result = CliRunner().invoke(cli, ["train", "--epochs", "5", "--out", str(tmp_path / "m.h5"), "--json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_defaults_reach_95_percent_in_five_epochs(tmp_path: Path, data_root: Path) -> None:
    result = _train(tmp_path)
    assert result["test_accuracy"] >= 0.950, result["test_accuracy"]
    rates = [epoch["learning_rate"] for epoch in result["history"]["epochs"]]
    assert rates == [0.1 * 0.7**epoch for epoch in range(5)]  # momentum at 0.1, times 0.7 every epoch


def test_naming_mini_batch_at_0_5_keeps_the_plain_constant_rate(tmp_path: Path, data_root: Path) -> None:
    result = _train(tmp_path, "--optimizer", "mini-batch", "--lr", "0.5", "--keep", "last")
    assert [epoch["learning_rate"] for epoch in result["history"]["epochs"]] == [0.5] * 5
    # The figures of netkit before the default recipe (README, 0.1.0): 93.76% after these five epochs.
    assert round(result["test_accuracy"], 4) == 0.9376
