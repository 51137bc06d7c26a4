"""``netkit train`` rejects bad options as usage errors (exit 2) before loading any data."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from netkit.cli.main import cli
from netkit.cli.options import parse_layers


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "at least 1"),
        ("-3", "at least 1"),
        ("16,-1", "at least 1"),
        ("abc", "not a whole number"),
        ("16,,16", "empty layer size"),
        ("16,", "empty layer size"),
        ("1.5", "not a whole number"),
    ],
)
def test_bad_layer_sizes_are_usage_errors(value: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["train", "--layers", value])
    assert result.exit_code == 2
    assert "--layers" in result.stderr and message in result.stderr


def test_layer_sizes_parse() -> None:
    assert parse_layers("16,16") == [16, 16]
    assert parse_layers(" 100 , 30 ,10") == [100, 30, 10]
    assert parse_layers("none") == parse_layers("") == []


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "fast"])
def test_bad_learning_rates_are_usage_errors(value: str) -> None:
    result = CliRunner().invoke(cli, ["train", "--lr", value])
    assert result.exit_code == 2
    assert "--lr" in result.stderr


@pytest.mark.parametrize(("option", "value"), [("--epochs", "0"), ("--batch-size", "0"), ("--seed", "-1")])
def test_out_of_range_counts_are_usage_errors(option: str, value: str) -> None:
    result = CliRunner().invoke(cli, ["train", option, value])
    assert result.exit_code == 2
    assert option in result.stderr


@pytest.mark.parametrize("value", ["-0.1", "1.5", "half"])
def test_bad_validation_sizes_are_usage_errors(value: str) -> None:
    assert CliRunner().invoke(cli, ["train", "--validation", value]).exit_code == 2


def test_unknown_activation_is_a_usage_error_listing_the_installed_ones() -> None:
    result = CliRunner().invoke(cli, ["train", "--activation", "swish"])
    assert result.exit_code == 2
    assert "unknown activation 'swish'" in result.stderr
    for name in ("sigmoid", "relu", "tanh"):
        assert name in result.stderr


def test_bad_plugin_options_are_usage_errors() -> None:
    result = CliRunner().invoke(cli, ["train", "--activation", "sigmoid:slope=0.1"])
    assert result.exit_code == 2
    assert "sigmoid" in result.stderr
    result = CliRunner().invoke(cli, ["train", "--optimizer", "adam:beta1=2"])
    assert result.exit_code == 2
    assert "beta1" in result.stderr
    result = CliRunner().invoke(cli, ["train", "--activation", "leaky-relu:slope"])
    assert result.exit_code == 2
    assert "key=value" in result.stderr


def test_plugin_options_in_spec_syntax_are_accepted() -> None:
    # Parsing succeeds; the run then stops at the conflicting --resume/--reset pair, before any data.
    result = CliRunner().invoke(
        cli,
        ["train", "--activation", "leaky-relu:slope=0.1", "--optimizer", "adam:beta1=0.8", "--resume", "--reset"],
    )
    assert result.exit_code == 2
    assert "--resume and --reset" in result.stderr


def test_batch_size_is_refused_for_optimizers_without_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["train", "--optimizer", "full-batch", "--batch-size", "64", "--out", str(tmp_path / "m.h5")]
    )
    assert result.exit_code == 2
    assert "full-batch" in result.stderr and "batch size" in result.stderr


def test_lr_and_a_spec_learning_rate_must_agree(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["train", "--optimizer", "adam:lr=0.01", "--lr", "0.1", "--out", str(tmp_path / "m.h5")]
    )
    assert result.exit_code == 2
    assert "disagree" in result.stderr


def test_help_lists_plugins_registered_after_import() -> None:
    from netkit.registry import default_registry

    class Cube:
        """x cubed (a test plugin)."""

        init = "xavier"

        def get_config(self) -> dict[str, object]:
            return {}

        @classmethod
        def from_config(cls, config: dict[str, object]) -> Cube:
            return cls()

    registry = default_registry()
    registry.register("activations", "cube-test", Cube)
    try:
        result = CliRunner().invoke(cli, ["train", "--help"])
        assert "cube-test" in result.output
        assert CliRunner().invoke(cli, ["train", "--activation", "cube-test", "--epochs", "0"]).exit_code == 2
        rejected = CliRunner().invoke(cli, ["train", "--activation", "cube-test", "--epochs", "0"])
        assert "unknown activation" not in rejected.stderr  # accepted; --epochs 0 is what failed
    finally:
        default_registry.cache_clear()


def test_a_missing_output_folder_fails_before_training(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "--out", str(tmp_path / "no" / "such" / "m.h5")])
    assert result.exit_code == 1
    assert "folder" in result.stderr and "does not exist" in result.stderr
    assert "epoch" not in result.stdout
