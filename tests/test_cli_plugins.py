"""``netkit plugins``: every registered plugin, its distribution, and a mark for the broken ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from netkit.cli.main import cli
from netkit.cli.plugin_list import first_sentence
from netkit.errors import PluginError
from netkit.registry import GROUPS, PluginInfo, Registry, default_registry


def test_table_lists_every_group_and_builtin() -> None:
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    for group in ("layers", "activations", "losses", "optimizers", "datasets"):
        assert group in result.stdout
    for name in ("dense", "sigmoid", "cross-entropy", "mini-batch", "mnist"):
        assert f" {name} " in result.stdout
    assert "netkit-nn" in result.stdout  # the distribution every built-in came from


def test_json_has_group_name_distribution_version_and_status() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    names = {(record["group"], record["name"]) for record in records}
    assert names >= {(info.group, info.name) for info in default_registry().describe()}
    sigmoid = next(record for record in records if record["name"] == "sigmoid")
    assert sigmoid["distribution"] == "netkit-nn" and sigmoid["loaded"] is True and sigmoid["error"] is None
    assert sigmoid["version"]


def test_a_plugin_that_failed_to_load_is_marked(monkeypatch: pytest.MonkeyPatch) -> None:
    class WithABrokenPlugin(Registry):
        def describe(self) -> list[PluginInfo]:
            broken = PluginInfo("activations", "swish", "swish:Swish", "netkit-swish", "1.0", "ImportError: nope")
            return [*super().describe(), broken]

    monkeypatch.setattr("netkit.cli.plugin_list.default_registry", WithABrokenPlugin)
    result = CliRunner().invoke(cli, ["plugins"], env={"COLUMNS": "160"})
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if "swish" in line)
    assert "netkit-swish" in row and "✗ failed to load: ImportError: nope" in row
    assert "1 plugin(s) failed to load" in result.stderr
    records = json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).stdout)
    assert {"name": "swish", "loaded": False, "error": "ImportError: nope"}.items() <= records[-1].items()


def test_descriptions_are_the_first_sentence_of_the_docstring() -> None:
    assert first_sentence("A layer.\n\n    More text.") == "A layer."
    assert first_sentence("Any folder, e.g. a MNIST clone. More.") == "Any folder, e.g. a MNIST clone."
    assert first_sentence("Uses ``units`` only") == "Uses units only"
    assert first_sentence(None) == ""


def test_help_names_every_plugin_group() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--help"])
    text = " ".join(result.output.split())
    missing = [group for group in GROUPS if group not in text]
    assert not missing, f"netkit plugins --help does not name {missing}"


def _description_cells(output: str) -> dict[str, str]:
    """Each plugin's description as the table shows it, its wrapped lines joined again."""
    cells: dict[str, str] = {}
    name = ""
    for line in output.splitlines():
        columns = [cell.strip() for cell in line.split("│")]
        if len(columns) != 7:
            continue  # borders, headers, section rules
        name = columns[2] or name
        cells[name] = f"{cells.get(name, '')} {columns[5]}".strip()
    return cells


def test_descriptions_are_whole_sentences_at_120_columns() -> None:
    result = CliRunner().invoke(cli, ["plugins"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 120
    assert "…" not in result.output
    cells = _description_cells(result.output)
    registry = default_registry()
    for info in registry.describe():
        expected = first_sentence(registry.get(info.group, info.name).__doc__)
        assert cells.get(info.name) == expected, f"{info.name}: shown {cells.get(info.name)!r}"


def test_one_plugin_shows_its_options_defaults_spec_and_docs() -> None:
    result = CliRunner().invoke(cli, ["plugins", "leaky-relu"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("leaky-relu · activations · netkit-nn")
    assert "--activation leaky-relu:slope=0.01" in result.output
    assert any(line.split() == ["slope", "0.01"] for line in lines)
    assert "slope * z" in result.output  # the docstring
    record = json.loads(CliRunner().invoke(cli, ["plugins", "dense", "--json"]).stdout)
    assert record["group"] == "layers" and record["required"] == ["units"]
    assert set(record["options"]) == {"units", "activation", "init"}
    assert record["example"] == "--layer dense:units=UNITS"


def test_an_unknown_plugin_name_is_a_usage_error_with_a_guess() -> None:
    result = CliRunner().invoke(cli, ["plugins", "mnst"])
    assert result.exit_code == 2
    assert "no plugin named 'mnst' (did you mean 'mnist'?)" in result.stderr


def test_a_bad_plugin_option_is_one_line_listing_the_valid_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "--activation", "leaky-relu:slop=0.1", "--out", str(tmp_path / "m.h5")])
    assert result.exit_code == 2
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and "Traceback" not in result.output
    assert "unknown option 'slop' for activation 'leaky-relu' (did you mean 'slope'?); valid options: slope" in error[0]
    with pytest.raises(PluginError, match="valid options: learning_rate, batch_size, beta1, beta2, epsilon"):
        default_registry().create("optimizers", "adam:beta=0.8")
    with pytest.raises(PluginError, match="activation 'relu' takes no options"):
        default_registry().create("activations", "relu:slope=0.1")
    # A declared alias (optimizers' lr) is still an option.
    assert default_registry().create("optimizers", "adam:lr=0.01").learning_rate == 0.01
