"""Shared fixtures. Real-data tests find MNIST through NETKIT_DATA (a folder holding ``mnist/``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from netkit.data import Dataset
from netkit.registry import default_registry

# CI and the README pass NETKIT_DATA=../shared/data: made absolute here, before any test changes directory
# or hands the path to a server, so that every test sees the same folder.
if os.environ.get("NETKIT_DATA"):
    os.environ["NETKIT_DATA"] = str(Path(os.environ["NETKIT_DATA"]).resolve())

SEED_ARCHITECTURE = [
    {"type": "dense", "units": 16, "activation": "sigmoid"},
    {"type": "dense", "units": 16, "activation": "sigmoid"},
    {"type": "dense", "units": 10, "activation": "softmax"},
]


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = os.environ.get("NETKIT_DATA")
    if not root or not (Path(root) / "mnist").is_dir():
        pytest.fail("set NETKIT_DATA to a folder holding mnist/ (e.g. NETKIT_DATA=../shared/data)")
    return Path(root)


@pytest.fixture(scope="session")
def mnist_dir(data_root: Path) -> Path:
    return data_root / "mnist"


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path) -> Dataset:
    dataset: Dataset = default_registry().create("datasets", "mnist").load(data_dir=mnist_dir, download=False)
    return dataset


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def pip(command: str, *arguments: str) -> None:
    """Run this interpreter's pip quietly, without dependencies or a build sandbox (the test extras bring
    setuptools and wheel); a failure shows pip's output."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", command, "--quiet", "--no-deps", "--no-build-isolation", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
