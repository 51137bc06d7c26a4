"""A folder of images, one subfolder per class, decoded in parallel and cached.

Layout rules (what :func:`scan` accepts):

- Each folder directly under the root is a class; its name is the class name. Images may sit at any depth
  below it (``root/7/7/123.png`` is class ``"7"``), as in the original digit program's data folder.
- When the root holds exactly two folders named ``train`` and ``test``, each is such a class tree and
  they give the training and test sets (see :func:`find_splits`).
- Files with an image extension (:data:`IMAGE_SUFFIXES`) are images; one that cannot be decoded is a
  :class:`~netkit.errors.DatasetError`. Other files inside class folders are skipped with one
  :class:`~netkit.data.dataset.DatasetWarning` (count and an example); files directly under the root
  (a README) and hidden files or folders (``.DS_Store``, ``.git``) are ignored silently.
- Class ids: when every class name is a whole number (``0`` .. ``9``) the number *is* the label and the
  class names are ``"0"`` .. the largest, so digit folders line up with a 10-class model even when some
  digits are absent; otherwise the names are sorted and numbered from 0.
- An empty root, or a class folder without images, is a :class:`~netkit.errors.DatasetError`.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import attrs
import numpy as np

from netkit.data.dataset import DatasetWarning
from netkit.data.decoded import DecodedCache, digest
from netkit.data.images import PREPROCESS_VERSION, SIDE, load_image
from netkit.errors import DatasetError
from netkit.types import FloatArray, LabelArray

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})
PARALLEL_FROM = 2000  # below this many images a process pool costs more than it saves
_CHUNK = 500


@attrs.frozen
class ImageListing:
    """The images of a class tree with their class names and the state that keys the decoded cache.

    Paths are plain strings: building 20,000 ``Path`` objects would cost more than the cached load itself.
    """

    root: Path
    files: tuple[str, ...]
    class_of_file: tuple[str, ...]
    stamps: tuple[tuple[str, int, int], ...]
    skipped: tuple[str, ...]


@attrs.define
class _Walk:
    images: list[str] = attrs.Factory(list)
    stamps: list[tuple[str, int, int]] = attrs.Factory(list)
    skipped: list[str] = attrs.Factory(list)


def _walk(folder: str, skip_prefix: int, found: _Walk) -> None:
    """Collect ``folder``'s images, depth first in name order; symlinked subfolders are not followed."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                _walk(entry.path, skip_prefix, found)
            elif os.path.splitext(entry.name)[1].lower() not in IMAGE_SUFFIXES:
                found.skipped.append(entry.path)
            elif entry.is_file():
                status = entry.stat()
                found.images.append(entry.path)
                found.stamps.append((entry.path[skip_prefix:], status.st_size, status.st_mtime_ns))
    except OSError as exc:
        raise DatasetError(f"cannot read {exc.filename or folder}: {exc.strerror or exc}") from None


def _class_folders(root: Path) -> list[Path]:
    if not root.exists():
        raise DatasetError(f"image folder not found: {root}")
    if not root.is_dir():
        raise DatasetError(f"not a folder: {root}; expected one subfolder per class")
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        raise DatasetError(f"cannot list {root}: {exc.strerror or exc}") from None
    folders = [entry for entry in entries if entry.is_dir() and not entry.name.startswith(".")]
    if not folders:
        raise DatasetError(f"{root} holds no class folders; expected e.g. {root}/0/*.png, {root}/1/*.png")
    return folders


def scan(root: Path) -> ImageListing:
    """Every image under ``root``'s class folders, in a stable order."""
    found = _Walk()
    classes: list[str] = []
    for folder in _class_folders(root):
        before = len(found.images)
        _walk(str(folder), len(str(root)) + 1, found)
        if len(found.images) == before:
            raise DatasetError(f"class folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        classes += [folder.name] * (len(found.images) - before)
    if found.skipped:
        warnings.warn(
            f"skipped {len(found.skipped)} non-image file(s) under {root}, e.g. {found.skipped[0]}",
            DatasetWarning,
            stacklevel=2,
        )
    return ImageListing(root, tuple(found.images), tuple(classes), tuple(found.stamps), tuple(found.skipped))


def find_splits(root: Path) -> tuple[Path, Path] | None:
    """``(root/train, root/test)`` when those are the root's only folders, else ``None``."""
    folders = {folder.name.lower(): folder for folder in _class_folders(root)}
    if set(folders) == {"train", "test"}:
        return folders["train"], folders["test"]
    return None


def class_names_for(names: Sequence[str]) -> tuple[str, ...]:
    """The class names a set of folder names stands for (see the module docstring)."""
    unique = sorted(set(names))
    if all(name.isdigit() for name in unique):
        return tuple(str(label) for label in range(max(int(name) for name in unique) + 1))
    return tuple(unique)


def labels_for(class_of_file: Sequence[str], class_names: Sequence[str]) -> LabelArray:
    index = {name: label for label, name in enumerate(class_names)}
    if all(name.isdigit() for name in class_names):
        index.update({name: int(name) for name in class_of_file})  # "07" is class 7
    return np.fromiter((index[name] for name in class_of_file), dtype=np.int64, count=len(class_of_file))


def _decode_chunk(paths: Sequence[str | Path], center: bool) -> FloatArray:
    images = np.empty((len(paths), SIDE * SIDE), dtype=np.float32)
    for row, path in enumerate(paths):
        images[row] = load_image(path, center=center)
    return images


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _fork_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool of forked workers, or ``None`` when forking is not safe here.

    Fork starts workers in milliseconds and, unlike spawn or forkserver, never re-imports the caller's
    ``__main__`` (an unguarded user script would run again in every worker). It is safe only while no other
    Python thread could hold a lock at the moment of the fork, so it is used only in a single-threaded
    process. Python 3.12+ also warns about the native BLAS threads NumPy starts; those sit idle and the
    workers never call BLAS, so that one warning is silenced here.
    """
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*multi-threaded.*fork", category=DeprecationWarning)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
        pool.submit(int).result()  # start the workers now, inside the filter
    return pool


def decode(files: Sequence[str | Path], center: bool, workers: int | None = None) -> FloatArray:
    """Preprocess every file into a float32 row, in worker processes when there are many (the measurements:
    bench/README.md, "Dated results")."""
    workers = min(workers or _workers(), -(-len(files) // _CHUNK))
    pool = _fork_pool(workers) if workers > 1 and len(files) >= PARALLEL_FROM else None
    if pool is None:
        return _decode_chunk(files, center)
    chunks = [files[start : start + _CHUNK] for start in range(0, len(files), _CHUNK)]
    with pool:
        try:
            parts = list(pool.map(_decode_chunk, chunks, [center] * len(chunks)))
        except BrokenProcessPool:  # a worker was killed (out of memory?): do the work here instead
            return _decode_chunk(files, center)
    return np.concatenate(parts)


def load_listing(
    listing: ImageListing, center: bool, cache: DecodedCache | None = None, workers: int | None = None
) -> FloatArray:
    """The listing's images as rows, from the decoded cache when the files have not changed."""
    if cache is None:
        return decode(listing.files, center, workers)
    slot = "images-" + digest([str(listing.root.resolve()), center])[:16]
    key = digest([PREPROCESS_VERSION, center, listing.stamps])
    hit = cache.load(slot, key)
    if hit is not None:
        return hit[0]["images"]
    images = decode(listing.files, center, workers)
    cache.store(slot, key, {"images": images}, {"count": len(images)})
    return images
