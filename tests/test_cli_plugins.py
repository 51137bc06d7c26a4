"""``netkit plugins``: every registered plugin, its distribution, and a mark for the broken ones."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from netkit.cli.main import cli
from netkit.cli.plugin_list import first_sentence
from netkit.registry import PluginInfo, Registry, default_registry


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
