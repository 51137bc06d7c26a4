"""The command group: version, help, and the exit-code contract (0 ok, 1 netkit error, 2 usage, 130 Ctrl-C)."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import netkit
from netkit.cli.main import cli

COMMANDS = ["train", "evaluate", "predict", "inspect", "trace", "export", "plugins", "data"]


def test_version_matches_the_package_metadata() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"netkit {netkit.__version__}"
    # The version is the installed distribution's, found by the name pip knows netkit by.
    assert (
        netkit.__version__ == importlib.metadata.version("netkit-nn") == importlib.metadata.version(netkit.DISTRIBUTION)
    )


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_a_netkit_error_is_one_line_on_stderr_with_exit_code_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["inspect", str(tmp_path / "missing.h5")])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("netkit: error: ") and "missing.h5" in lines[0]


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["trian"])
    assert result.exit_code == 2


def test_ctrl_c_exits_with_130(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("netkit.cli.inspect_model.open_model", interrupted)
    result = CliRunner().invoke(cli, ["inspect", str(tmp_path / "any.h5")])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr


def _installed_script() -> list[str]:
    script = shutil.which("netkit", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "netkit.cli.main"]


def test_the_installed_console_script_runs() -> None:
    completed = subprocess.run([*_installed_script(), "--version"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0
    assert completed.stdout.strip() == f"netkit {netkit.__version__}"


def test_the_console_script_maps_errors_to_exit_codes(tmp_path: Path) -> None:
    not_a_model = tmp_path / "notes.h5"
    not_a_model.write_text("not a model")
    completed = subprocess.run(
        [*_installed_script(), "inspect", str(not_a_model)], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith("netkit: error: ") and completed.stderr.count("\n") == 1
    usage = subprocess.run([*_installed_script(), "train", "--epochs", "0"], capture_output=True, text=True)
    assert usage.returncode == 2
