"""The user story "add a layer": a third-party package that knows nothing of netkit's speed rules installs
by entry point, conforms, trains from ``netkit train``, saves, loads and is listed."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from netkit.io import load_model
from netkit.model.fast import Fast
from netkit.model.network import Network
from netkit.registry import Registry, default_registry
from netkit.testing import check_model_gradients, check_plugin

from .conftest import pip

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "netkit-scale"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real pip install of the example into its own folder, so the test environment stays as it was."""
    target = tmp_path_factory.mktemp("scale-site")
    pip("install", "--target", str(target), str(EXAMPLE))
    return target


@pytest.fixture
def registry_with_scale(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    default_registry.cache_clear()
    yield default_registry()
    monkeypatch.undo()
    default_registry.cache_clear()


def _netkit(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "netkit.cli.main", *args], env=env, capture_output=True, text=True, check=False
    )


def test_the_installed_layer_conforms_on_inputs_of_any_rank(registry_with_scale: Registry) -> None:
    scale = registry_with_scale.get("layers", "scale")
    assert not issubclass(scale, Fast)  # textbook form only: no buffers, no layouts
    check_plugin("layers", scale, registry_with_scale)
    for shape in [(5,), (2, 4, 3)]:
        model = Network(
            shape,
            ["scale", "dense:units=4,activation=tanh", "dense:units=3,activation=softmax"],
            rng=np.random.default_rng(1),
            registry=registry_with_scale,
            dtype=np.float64,
        )
        check_model_gradients(model, np.random.default_rng(2))


def test_netkit_train_lists_trains_saves_and_loads_it(
    site: Path, registry_with_scale: Registry, data_root: Path, tmp_path: Path
) -> None:
    listed = _netkit(site, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [row for row in json.loads(listed.stdout) if row["name"] == "scale"]
    assert rows and rows[0]["group"] == "layers" and rows[0]["distribution"] == "netkit-scale"
    out = tmp_path / "scaled.h5"
    trained = _netkit(
        site, "train", "--layer", "scale", "--layer", "dense:units=16", "--epochs", "1", "--out", str(out), "--json"
    )
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["test_accuracy"] > 0.85
    model = load_model(out).model
    assert [type(layer).__name__ for layer in model.layers] == ["Scale", "Flatten", "Dense", "Dense"]
    assert model.parameter_views[0]["gain"].shape == (1, 28, 28)
    evaluated = _netkit(site, "evaluate", str(out), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] > 0.85
