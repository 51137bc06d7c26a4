"""netkit installs as a normal package: a wheel holds netkit.plugins and netkit.cli, never top-level names."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import pip

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    pip("wheel", "-w", str(out), str(ROOT))
    (built,) = out.glob("netkit_nn-*.whl")
    return built


def test_wheel_maps_plugins_and_cli_under_netkit(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "netkit/plugins/activations.py" in names and "netkit/cli/main.py" in names
    assert "netkit/pretrained/mnist-784-16-16-10.h5" in names and "netkit/py.typed" in names
    assert "netkit/pretrained/mnist-cnn.h5" in names
    assert not [n for n in names if n.startswith(("plugins/", "cli/", "tests/", "bench/"))]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    for group in ("netkit.layers", "netkit.activations", "netkit.losses", "netkit.optimizers", "netkit.datasets"):
        assert f"[{group}]" in text
    assert "netkit = netkit.cli.main:main" in text


def test_installed_wheel_imports_and_trains(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    pip("install", "--target", str(target), str(wheel))
    script = (
        "import numpy as np, netkit, netkit.plugins.activations as a, netkit.cli.main\n"
        "from netkit.registry import default_registry\n"
        "from netkit.model.network import Network\n"
        "from netkit.training.trainer import Trainer\n"
        f"assert netkit.__file__.startswith({str(target)!r}), netkit.__file__\n"
        f"assert a.__file__.startswith({str(target)!r}), a.__file__\n"
        "m = Network(4, ['dense:units=3,activation=softmax'])\n"
        "Trainer(m, default_registry().create('optimizers', 'adam')).fit(np.ones((8, 4), np.float32), np.zeros(8), 1)\n"
        "print(sorted(default_registry().names('activations')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    # Run from tmp_path: python -c puts the working folder first on sys.path, and ROOT holds netkit/.
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "'sigmoid'" in result.stdout


def test_editable_install_serves_this_source_tree() -> None:
    """The test environment is `pip install -e .`: the mapped packages resolve to the folders here."""
    import netkit.cli.main
    import netkit.plugins.layers

    assert Path(netkit.plugins.layers.__file__).resolve() == ROOT / "plugins" / "layers.py"
    assert Path(netkit.cli.main.__file__).resolve() == ROOT / "cli" / "main.py"


def test_wheel_holds_the_web_page_under_netkit_web(wheel: Path, tmp_path: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for page_file in ("index.html", "app.js", "charts.js", "colors.js", "requests.js", "style.css"):
        assert f"netkit/web/static/{page_file}" in names
    assert "netkit/web/server.py" in names and not [n for n in names if n.startswith("web/")]
    target = tmp_path / "site"
    pip("install", "--target", str(target), str(wheel))
    script = "from netkit.web.server import _static_files\nprint(sorted(_static_files()))\n"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "'/app.js'" in result.stdout and "'/'" in result.stdout
