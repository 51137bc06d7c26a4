"""Plugin discovery through real entry-point metadata, specs, and friendly failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from netkit.errors import PluginError
from netkit.registry import PluginWarning, Registry, default_registry, format_spec, parse_spec


def _fake_distribution(root: Path, name: str, entry_points: str) -> None:
    """A minimal installed distribution: what pip leaves in site-packages, without the code."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_builtins_come_from_netkits_own_entry_points() -> None:
    infos = {(info.group, info.name): info for info in default_registry().describe()}
    sigmoid = infos[("activations", "sigmoid")]
    assert sigmoid.distribution == "netkit-nn" and sigmoid.target == "netkit.plugins.activations:Sigmoid"
    assert sigmoid.loaded


def test_broken_third_party_plugin_warns_and_the_rest_keeps_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_distribution(tmp_path, "netkit-broken", "[netkit.activations]\nbroken = netkit_no_such_module:Thing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    with pytest.warns(PluginWarning, match=r"'broken' \(activations\) from distribution 'netkit-broken'"):
        names = registry.names("activations")
    assert "broken" not in names and "sigmoid" in names
    assert registry.create("activations", "sigmoid") is not None
    with pytest.raises(PluginError, match="from 'netkit-broken' failed to load: ModuleNotFoundError"):
        registry.get("activations", "broken")
    broken = [info for info in registry.describe() if info.name == "broken"]
    assert broken and not broken[0].loaded


def test_an_entry_point_must_name_a_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(tmp_path, "netkit-odd", "[netkit.losses]\nodd = json:dumps\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(PluginWarning, match="must name a class"):
        assert "odd" not in Registry().names("losses")


def test_in_process_registration() -> None:
    from netkit.plugins.activations import Tanh

    class Doubled(Tanh):
        """tanh under another name."""

    registry = Registry()
    registry.register("activations", "doubled", Doubled)
    assert isinstance(registry.create("activations", "doubled"), Doubled)
    assert registry.spec_of("activations", Doubled()) == {"type": "doubled"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("sigmoid", ("sigmoid", {})),
        ("leaky-relu:slope=0.1", ("leaky-relu", {"slope": 0.1})),
        ("adam:beta1=0.8, batch-size=64", ("adam", {"beta1": 0.8, "batch_size": 64})),
        (
            "png-folder:path=/data/x,preprocess=mnist",
            ("png-folder", {"path": "/data/x", "preprocess": "mnist"}),
        ),
        ({"type": "dense", "units": 3}, ("dense", {"units": 3})),
    ],
)
def test_parse_spec(spec: str | dict[str, object], expected: tuple[str, dict[str, object]]) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", ":a=1", "adam:beta1", "adam:=3", {"units": 3}])
def test_bad_specs_are_plugin_errors(spec: str | dict[str, object]) -> None:
    with pytest.raises(PluginError):
        parse_spec(spec)


def test_format_spec_reads_back() -> None:
    text = format_spec("leaky-relu", {"slope": 0.1})
    assert text == "leaky-relu:slope=0.1" and parse_spec(text) == ("leaky-relu", {"slope": 0.1})


def test_unknown_group() -> None:
    with pytest.raises(PluginError, match="unknown plugin group"):
        Registry().names("widgets")


def test_nested_plugins_resolve_through_the_registry_that_builds_them() -> None:
    """A layer's activation comes from the same registry as the layer, not from the process-wide one."""
    from netkit.model.network import Network
    from netkit.plugins.activations import Tanh

    class Scaled(Tanh):
        """tanh registered under a name only this registry knows."""

    registry = Registry()
    registry.register("activations", "only-here", Scaled)
    model = Network(4, [{"type": "dense", "units": 2, "activation": "only-here"}], "mse", registry=registry)
    assert isinstance(model.layers[0].activation, Scaled)  # type: ignore[attr-defined]
    assert model.get_config()["layers"][0]["activation"] == {"type": "only-here"}
    with pytest.raises(PluginError, match="unknown activation 'only-here'"):
        Network(4, [{"type": "dense", "units": 2, "activation": "only-here"}], "mse")
