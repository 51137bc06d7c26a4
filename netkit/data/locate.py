"""Where datasets are looked for, in order, and the user cache they are downloaded into.

Search order for a dataset called ``name`` (the first folder holding a file wins):

1. the ``data_dir`` the caller passes (``--data-dir``), and its ``<name>/`` subfolder;
2. ``$NETKIT_DATA/<name>/``;
3. the user cache ``$XDG_CACHE_HOME/netkit/<name>/`` (``~/.cache/netkit/<name>/`` when unset);
4. folders a system package installs to (e.g. Debian's ``/usr/share/datasets/<name>/``), per dataset.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from netkit.errors import DatasetError

DATA_ENV = "NETKIT_DATA"
CACHE_ENV = "XDG_CACHE_HOME"


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/netkit`` (a relative value is ignored, as the XDG spec says), else ``~/.cache/netkit``."""
    configured = os.environ.get(CACHE_ENV, "")
    if configured and Path(configured).is_absolute():
        return Path(configured) / "netkit"
    try:
        home = Path.home()
    except RuntimeError as exc:
        raise DatasetError(f"cannot find the user cache folder: {exc}; set {CACHE_ENV}") from None
    return home / ".cache" / "netkit"


def cache_dir(name: str) -> Path:
    """The folder a dataset is downloaded into (not created here)."""
    return cache_root() / name


def search_dirs(name: str, data_dir: Path | None = None, system_dirs: Iterable[Path] = ()) -> list[Path]:
    """Every folder searched for dataset ``name``, in order, without duplicates.

    A ``data_dir`` the caller names must be a folder: searching on past a missing one would quietly load
    the dataset from somewhere the user did not ask for.
    """
    candidates: list[Path] = []
    if data_dir is not None:
        if not Path(data_dir).exists():
            raise DatasetError(f"data folder {data_dir} does not exist")
        if not Path(data_dir).is_dir():
            raise DatasetError(f"{data_dir} is a file, not a folder: dataset {name!r} is a set of files in a folder")
        candidates += [Path(data_dir), Path(data_dir) / name]
    root = os.environ.get(DATA_ENV)
    if root:
        candidates.append(Path(root) / name)
    candidates.append(cache_dir(name))
    candidates.extend(system_dirs)
    unique: list[Path] = []
    for candidate in candidates:
        if candidate not in unique:
            unique.append(candidate)
    return unique


def file_in(directory: Path, stem: str) -> Path | None:
    """``directory/stem`` or ``directory/stem.gz``; the raw file wins (it loads without decompressing)."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def find_file(stem: str, directories: Sequence[Path]) -> Path | None:
    """The first ``stem`` or ``stem.gz`` in ``directories``."""
    for directory in directories:
        found = file_in(directory, stem)
        if found is not None:
            return found
    return None
