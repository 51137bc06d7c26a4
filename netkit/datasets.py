"""``nk.datasets.load("mnist")``: any registered dataset by spec, with the same search and download rules
as ``netkit train --dataset`` (``data_dir``, then ``$NETKIT_DATA/<name>/``, then the user cache)."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from netkit.data import Dataset
from netkit.data.download import ProgressCallback
from netkit.registry import Registry, default_registry

__all__ = ["Dataset", "load", "names"]


def names(registry: Registry | None = None) -> list[str]:
    """The dataset plugins installed: ``["csv", "fashion-mnist", "idx", "mnist", "png-folder"]`` and any others."""
    return (registry or default_registry()).names("datasets")


def load(
    spec: str | Mapping[str, Any],
    data_dir: str | Path | None = None,
    download: bool = True,
    progress: ProgressCallback | None = None,
    registry: Registry | None = None,
) -> Dataset:
    """The dataset ``spec`` names (``"mnist"``, ``"csv:path=digits.csv"``) as float32 rows in [0, 1].

    Missing files are downloaded (verified) unless ``download`` is false; a download reports to
    ``progress(filename, bytes_done, bytes_total)``, by default one line per file on stderr.
    """
    loader: Any = (registry or default_registry()).create("datasets", spec)
    folder = Path(data_dir).expanduser() if data_dir is not None else None
    if "progress" not in inspect.signature(loader.load).parameters:
        dataset: Dataset = loader.load(folder, download)
        return dataset
    dataset = loader.load(folder, download, progress=progress or _FileLines())
    return dataset


class _FileLines:
    """Says which file is being fetched, once per file: enough to explain a pause, without a UI library."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, filename: str, done: int, total: int | None) -> None:
        if filename not in self.seen:
            self.seen.add(filename)
            print(f"netkit: downloading {filename}", file=sys.stderr)
