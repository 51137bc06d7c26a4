"""A cache of decoded arrays, as ``.npy`` files under the user cache, keyed by what they were decoded from.

Decoding is the slow part of loading (inflating MNIST, decoding thousands of PNGs); reading an ``.npy``
back, or memory-mapping it, is nearly free. An entry lives in ``<cache>/decoded/<slot>/<key>/``: the
*slot* names the source (e.g. a folder), the *key* is a hash of the source's state (each file's size and
modification time, plus the decoding options). When the source changes the key changes, the old entry is
a miss and is deleted when the new one is stored. A cache that cannot be written only costs speed: a
:class:`~netkit.data.dataset.DatasetWarning` says why, and loading goes on.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from netkit.data.dataset import DatasetWarning
from netkit.data.locate import cache_root
from netkit.io.atomic import atomic_write

FORMAT_VERSION = 1
_META = "meta.json"

Arrays = dict[str, npt.NDArray[Any]]


def stamp(path: Path) -> tuple[str, int, int]:
    """What identifies a file's state cheaply: absolute path, size and modification time (ns)."""
    status = path.stat()
    return str(path.resolve()), status.st_size, status.st_mtime_ns


def digest(parts: Iterable[object]) -> str:
    """A short stable hash of JSON-able parts."""
    text = json.dumps([FORMAT_VERSION, *parts], separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@attrs.frozen
class DecodedCache:
    """Arrays decoded before, found again by ``(slot, key)``."""

    root: Path = attrs.field(factory=lambda: cache_root() / "decoded")

    def load(self, slot: str, key: str, mmap: bool = False) -> tuple[Arrays, dict[str, Any]] | None:
        """The arrays and metadata stored under ``(slot, key)``, or ``None`` on a miss.

        With ``mmap`` the arrays are read-only memory maps of the files (pages are read on first use).
        """
        entry = self.root / slot / key
        try:
            stored = json.loads((entry / _META).read_text())
            arrays = {
                name: np.asarray(np.load(entry / f"{name}.npy", mmap_mode="r" if mmap else None))
                for name in stored["arrays"]
            }
            return arrays, dict(stored["meta"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):  # a damaged entry is a miss
            shutil.rmtree(entry, ignore_errors=True)
            return None

    def store(self, slot: str, key: str, arrays: Mapping[str, npt.NDArray[Any]], meta: Mapping[str, Any]) -> None:
        """Write an entry atomically (a temporary folder renamed into place) and drop the slot's old ones.

        An entry already there (a damaged one, or another process got there first) is replaced.
        """
        folder = self.root / slot

        def fill(staging: Path) -> None:
            for name, array in arrays.items():
                np.save(staging / f"{name}.npy", array, allow_pickle=False)
            (staging / _META).write_text(json.dumps({"arrays": list(arrays), "meta": dict(meta)}))

        try:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(folder / key, fill, folder=True)
        except OSError as exc:
            warnings.warn(f"could not cache decoded data in {folder}: {exc}", DatasetWarning, stacklevel=3)
            return
        for old in folder.iterdir():
            if old.name != key and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)

    def clear(self) -> None:
        """Delete every cached entry."""
        shutil.rmtree(self.root, ignore_errors=True)
