"""netkit: a from-scratch neural-network toolkit on NumPy.

Everything a learner needs is one import away::

    import netkit as nk
    data = nk.datasets.load("mnist")
    model = nk.Sequential([nk.Dense(16, "sigmoid"), nk.Dense(10, "softmax")], input_size=784, seed=0)
    model.fit(data.train_images, data.train_labels, epochs=5, validation=0.1)
    model.evaluate(data.test_images, data.test_labels).accuracy

The names below are imported on first use, so ``import netkit`` (and the CLI's start) stays quick.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

# The name pip knows netkit by (``pip install netkit-nn``); the import name and the command stay ``netkit``.
DISTRIBUTION = "netkit-nn"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from netkit import datasets
    from netkit.errors import ConfigError, DatasetError, ModelFileError, NetkitError, PluginError, TrainingDiverged
    from netkit.io.files import load, load_shipped, save
    from netkit.model.evaluation import Evaluation
    from netkit.model.layer import Layer
    from netkit.model.network import Backprop
    from netkit.model.sequential import Sequential
    from netkit.model.specs import Dense, activation, layer, loss, optimizer
    from netkit.training.callbacks import Callback, Checkpoint, LambdaCallback, ProgressBar
    from netkit.training.history import TrainingHistory
    from netkit.training.trainer import EpochRecord

# Public name -> the module that defines it.
_EXPORTS = {
    "Sequential": "model.sequential",
    "Dense": "model.specs",
    "Layer": "model.layer",
    "layer": "model.specs",
    "activation": "model.specs",
    "loss": "model.specs",
    "optimizer": "model.specs",
    "save": "io.files",
    "load": "io.files",
    "load_shipped": "io.files",
    "Evaluation": "model.evaluation",
    "TrainingHistory": "training.history",
    "Backprop": "model.network",
    "EpochRecord": "training.trainer",
    "Callback": "training.callbacks",
    "Checkpoint": "training.callbacks",
    "LambdaCallback": "training.callbacks",
    "ProgressBar": "training.callbacks",
    "NetkitError": "errors",
    "ConfigError": "errors",
    "DatasetError": "errors",
    "ModelFileError": "errors",
    "PluginError": "errors",
    "TrainingDiverged": "errors",
}
_SUBMODULES = ("datasets", "pictures")

__all__ = [
    "Backprop",
    "Callback",
    "Checkpoint",
    "ConfigError",
    "DatasetError",
    "Dense",
    "EpochRecord",
    "Evaluation",
    "LambdaCallback",
    "Layer",
    "ModelFileError",
    "NetkitError",
    "PluginError",
    "ProgressBar",
    "Sequential",
    "TrainingDiverged",
    "TrainingHistory",
    "__version__",
    "activation",
    "datasets",
    "layer",
    "load",
    "load_shipped",
    "loss",
    "optimizer",
    "save",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value  # found once; later lookups skip this function
        return value
    raise AttributeError(f"module 'netkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
