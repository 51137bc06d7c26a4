"""What every part of the benchmark shares: the cases, finding and loading MNIST, and timing statistics.

The benchmark's parts run in separate processes (netkit in the main one; PyTorch, the load timings and the
peak-memory run in children), so everything they must agree on lives here.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from netkit.model import Sequential

TRAIN_ROWS = 60_000
INPUTS = 784
CLASSES = 10
SEED = 0
DATASET = "mnist"


@dataclass(frozen=True)
class Case:
    """One training configuration, timed the same way in netkit and PyTorch."""

    key: str
    hidden: tuple[int, ...]
    activation: str
    batch_size: int
    learning_rate: float
    epochs: int  # epochs timed in a full run (each one is one repeat)
    rows: int = TRAIN_ROWS  # rows per timed "epoch"; fewer than 60,000 means extrapolated
    # One-sample steps are not averaged over a batch, so the per-sample loop needs a smaller step to learn.
    per_sample_learning_rate: float = 0.1

    @property
    def architecture(self) -> str:
        return "-".join(map(str, (INPUTS, *self.hidden, CLASSES))) + f" {self.activation}"

    @property
    def label(self) -> str:
        return f"{self.architecture}, batch {self.batch_size}"

    @property
    def flops_per_row(self) -> int:
        """Matmul FLOPs per training row: forward 1 matmul a layer, backward 2 (the first layer 1)."""
        sizes = [INPUTS, *self.hidden, CLASSES]
        products = [fan_in * fan_out for fan_in, fan_out in itertools.pairwise(sizes)]
        return 2 * (3 * sum(products) - products[0])

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "hidden": list(self.hidden)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        return cls(**{**data, "hidden": tuple(data["hidden"])})


# lr 0.5 is the seed network's; the ReLU nets use 0.1 (at 0.5 they can diverge). Same in both frameworks.
# (The per-sample loop's own rates only make it learn; its timing does not depend on them.)
CASES: tuple[Case, ...] = (
    Case("seed-b10", (16, 16), "sigmoid", 10, 0.5, epochs=5),
    Case("seed-b32", (16, 16), "sigmoid", 32, 0.5, epochs=5),
    Case("seed-b256", (16, 16), "sigmoid", 256, 0.5, epochs=5),
    Case("relu-128-64-b64", (128, 64), "relu", 64, 0.1, epochs=5, per_sample_learning_rate=0.01),
    Case("relu-800-800-b128", (800, 800), "relu", 128, 0.1, epochs=3, rows=30_000, per_sample_learning_rate=0.01),
)


def quick_case(case: Case) -> Case:
    """The smoke-run version of a case: one short timed pass on a part of the training set."""
    rows = 2_560 if case.hidden[0] >= 800 else 12_000
    return dataclasses.replace(case, epochs=1, rows=rows)


def layer_specs(case: Case) -> list[dict[str, Any]]:
    hidden = [{"type": "dense", "units": units, "activation": case.activation} for units in case.hidden]
    return [*hidden, {"type": "dense", "units": CLASSES, "activation": "softmax"}]


def build_model(case: Case, seed: int = SEED) -> Sequential:
    """The network exactly as ``netkit train`` assembles it."""
    return Sequential(INPUTS, layer_specs(case), "cross-entropy", np.random.default_rng(seed))


# ---- data -------------------------------------------------------------------------------------------------


def resolve_data_dir(cli_value: str | None) -> Path:
    """``--data-dir``, else ``$NETKIT_DATA/mnist``, else the folder where the ``mnist`` plugin's search finds it.

    The answer is always a folder, so child processes find the same files even with another user cache.
    """
    if cli_value:
        return Path(cli_value)
    root = os.environ.get("NETKIT_DATA")
    if root:
        return Path(root) / DATASET
    found = [status.found for status in mnist_loader(cache=False).status(None, verify=False)]
    if any(path is None for path in found):
        raise SystemExit("MNIST not found: pass --data-dir, set NETKIT_DATA, or run `netkit data download`")
    return Path(found[0]).parent


@dataclass(frozen=True)
class Mnist:
    train_images: npt.NDArray[np.float32]
    train_labels: npt.NDArray[np.int64]
    test_images: npt.NDArray[np.float32]
    test_labels: npt.NDArray[np.int64]


def mnist_loader(cache: bool = False) -> Any:
    """The ``mnist`` dataset plugin from netkit's registry (``cache=true`` keeps decoded arrays)."""
    from netkit.registry import default_registry

    return default_registry().create("datasets", f"{DATASET}:cache=true" if cache else DATASET)


def offers_decoded_cache() -> bool:
    """Whether the ``mnist`` plugin accepts ``cache=true`` (keeping decoded arrays between runs)."""
    try:
        mnist_loader(cache=True)
    except Exception:
        return False
    return True


def load_mnist(data_dir: Path, cache: bool = False) -> Mnist:
    """MNIST through netkit's ``mnist`` dataset plugin, as ``netkit train --dataset mnist`` loads it."""
    return as_mnist(mnist_loader(cache).load(data_dir, download=False))


def as_mnist(loaded: Any) -> Mnist:
    return Mnist(loaded.train_images, loaded.train_labels, loaded.test_images, loaded.test_labels)


# ---- timing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Repeated measurements of one thing, in seconds."""

    samples: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.min, "median": self.median, "samples": list(self.samples)}


def repeat(function: Callable[[], object], repeats: int) -> Timing:
    """Wall time of ``repeats`` calls of ``function``."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return Timing(tuple(samples))


def copy_weights_in(model: Sequential, weights: Sequence[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]) -> None:
    """Put (W with shape (in, out), b) pairs into ``model``'s layers, e.g. to score another framework's net."""
    for views, (weight, bias) in zip(model.parameter_views, weights, strict=True):
        views["weight"][...] = weight
        views["bias"][...] = bias
