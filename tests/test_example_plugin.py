"""The user story "register a new activation": pip-install the example package, then use it by name."""

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

from netkit.model.fast import Fast
from netkit.model.network import Network
from netkit.registry import Registry, default_registry
from netkit.testing import check_plugin, check_training_twin

from .conftest import pip

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "netkit-swish"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real pip install of the example into its own folder, so the test environment stays as it was."""
    target = tmp_path_factory.mktemp("swish-site")
    pip("install", "--target", str(target), str(EXAMPLE))
    return target


def _netkit(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    command = [sys.executable, "-m", "netkit.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def registry_with_swish(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """The process-wide registry as a new Python process would build it with the example on sys.path.

    Cleared again afterwards, so that later tests see the environment without the example.
    """
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    default_registry.cache_clear()
    yield default_registry()
    monkeypatch.undo()
    default_registry.cache_clear()


def test_the_installed_plugin_is_discovered_and_conforms(registry_with_swish: Registry) -> None:
    registry = registry_with_swish
    assert "swish" in registry.names("activations")
    info = next(i for i in registry.describe() if i.name == "swish")
    assert (info.group, info.distribution, info.version) == ("activations", "netkit-swish", "0.1.0")
    swish = registry.get("activations", "swish")
    assert not isinstance(swish(), Fast)  # written in textbook form only: forward(z) -> a, no out buffer
    check_plugin("activations", swish, registry)
    model = Network(6, [{"type": "dense", "units": 3, "activation": "swish:beta=1.5"}], "mse", registry=registry)
    assert model.get_config()["layers"][0]["activation"] == {"type": "swish", "beta": 1.5}
    assert model.forward(np.ones((2, 6), np.float32)).shape == (2, 3)
    # netkit's fast dense layer (adapting swish) trains exactly like the textbook one (calling it as written).
    layers = ["dense:units=5,activation=swish:beta=1.5", "dense:units=3,activation=softmax"]
    check_training_twin(6, layers, "cross-entropy", "momentum:batch_size=8", steps=4, registry=registry)


def test_the_cli_lists_and_trains_with_it(site: Path, mnist_dir: Path, tmp_path: Path) -> None:
    listed = _netkit(site, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert any(r["name"] == "swish" and r["distribution"] == "netkit-swish" for r in records)
    help_text = _netkit(site, "train", "--help").stdout
    assert "swish" in help_text
    trained = _netkit(
        site,
        "train",
        "--activation",
        "swish",
        "--layers",
        "16",
        "--epochs",
        "1",
        "--data-dir",
        str(mnist_dir),
        "--out",
        str(tmp_path / "swish.h5"),
        "--json",
    )
    assert trained.returncode == 0, trained.stderr
    result = json.loads(trained.stdout)
    assert result["test_accuracy"] > 0.85
    assert result["architecture"] == "784-16-10 (swish, softmax)"
    model_file = tmp_path / "swish.h5"
    evaluated = _netkit(site, "evaluate", str(model_file), "--data-dir", str(mnist_dir), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] == result["test_accuracy"]  # saved and loaded back
