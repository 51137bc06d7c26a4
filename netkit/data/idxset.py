"""Datasets made of four IDX files (MNIST and its relatives): find, check, download and load them.

A :class:`IdxDatasetSpec` says which files make a dataset, the SHA-256 of each file's *uncompressed*
content (so a faithful copy re-compressed by anyone is accepted) and optionally of the published ``.gz``
files, and the mirrors to download from. :func:`status` and :func:`download` are what ``netkit data
info|download`` render; :func:`load` is what a dataset plugin's ``load`` calls.

Loading checks structure (magic numbers, sizes, matching counts) every time; checksums are checked when a
file is downloaded and by :func:`status`, not on every load (hashing costs as much as decoding).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from netkit.data.dataset import Dataset
from netkit.data.decoded import DecodedCache, digest, stamp
from netkit.data.download import ProgressCallback, fetch, mirror_variable, mirrors_for
from netkit.data.idx import iter_content, read_pair
from netkit.data.locate import cache_dir, file_in, find_file, search_dirs
from netkit.errors import DatasetError
from netkit.types import FloatArray, LabelArray


@attrs.frozen
class IdxFile:
    """One file of an IDX dataset, by stem (no ``.gz``), with the digests that prove a copy good."""

    stem: str
    content_sha256: str
    gzip_sha256: tuple[str, ...] = ()


@attrs.frozen
class IdxDatasetSpec:
    """What makes up an IDX dataset and where to get it."""

    name: str
    train_images: IdxFile
    train_labels: IdxFile
    test_images: IdxFile
    test_labels: IdxFile
    class_names: tuple[str, ...]
    mirrors: tuple[str, ...]
    system_dirs: tuple[Path, ...] = ()

    @property
    def files(self) -> tuple[IdxFile, IdxFile, IdxFile, IdxFile]:
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)

    def search_dirs(self, data_dir: Path | None = None) -> list[Path]:
        return search_dirs(self.name, data_dir, self.system_dirs)


@attrs.frozen
class IdxPaths:
    """The four files of a train/test IDX dataset."""

    train_images: Path
    train_labels: Path
    test_images: Path
    test_labels: Path


@attrs.frozen
class FileStatus:
    """One file of a dataset as ``netkit data info`` shows it.

    ``checksum_ok`` is ``None`` when the file is missing or checksums were not asked for.
    """

    dataset: str
    filename: str
    searched: tuple[Path, ...]
    found: Path | None
    checksum_ok: bool | None
    problem: str | None = None

    @property
    def present(self) -> bool:
        return self.found is not None


def _sha256_of_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            hasher.update(block)
    return hasher.hexdigest()


def checksum_problem(path: Path, expected: IdxFile) -> str | None:
    """``None`` when ``path`` holds the expected content (raw or gzip-compressed), else what is wrong."""
    try:
        if _sha256_of_file(path) in expected.gzip_sha256:
            return None
        hasher = hashlib.sha256()
        for chunk in iter_content(path):
            hasher.update(chunk)
    except DatasetError as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if hasher.hexdigest() != expected.content_sha256:
        return f"SHA-256 of the content is {hasher.hexdigest()}, expected {expected.content_sha256}"
    return None


def status(spec: IdxDatasetSpec, data_dir: Path | None = None, verify: bool = True) -> list[FileStatus]:
    """Where each file of ``spec`` was looked for and found, and whether its checksum is right."""
    directories = spec.search_dirs(data_dir)
    result = []
    for expected in spec.files:
        found = find_file(expected.stem, directories)
        problem = checksum_problem(found, expected) if found is not None and verify else None
        checked = None if found is None or not verify else problem is None
        result.append(FileStatus(spec.name, expected.stem, tuple(directories), found, checked, problem))
    return result


def _fetch(spec: IdxDatasetSpec, expected: IdxFile, progress: ProgressCallback | None) -> Path:
    return fetch(
        f"{expected.stem}.gz",
        mirrors_for(spec.name, spec.mirrors),
        cache_dir(spec.name),
        lambda path: checksum_problem(path, expected),
        progress,
    )


def download(spec: IdxDatasetSpec, data_dir: Path | None = None, progress: ProgressCallback | None = None) -> Path:
    """Fetch into the user cache every file found nowhere on the search path; return the cache folder.

    A file already in the cache whose checksum is wrong is fetched again; files in the user's own folders
    (``data_dir``, ``$NETKIT_DATA``) are never touched.
    """
    cache = cache_dir(spec.name)
    for expected in spec.files:
        cached = file_in(cache, expected.stem)
        if cached is not None and checksum_problem(cached, expected) is None:
            continue
        if cached is None and find_file(expected.stem, spec.search_dirs(data_dir)) is not None:
            continue
        _fetch(spec, expected, progress)
    return cache


def locate(
    spec: IdxDatasetSpec,
    data_dir: Path | None = None,
    allow_download: bool = True,
    progress: ProgressCallback | None = None,
) -> IdxPaths:
    """The four files, each from the first folder on the search path holding it, downloading the missing."""
    directories = spec.search_dirs(data_dir)
    found = {expected.stem: find_file(expected.stem, directories) for expected in spec.files}
    missing = [stem for stem, path in found.items() if path is None]
    if missing and not allow_download:
        raise DatasetError(
            f"{spec.name}: {', '.join(missing)} (or .gz) not found in {', '.join(map(str, directories))}; "
            f"allow downloading, run `netkit data download {spec.name}`, or pass --data-dir"
        )
    for expected in spec.files:
        if found[expected.stem] is None:
            found[expected.stem] = _fetch(spec, expected, progress)
    paths = [found[expected.stem] for expected in spec.files]
    assert all(path is not None for path in paths)
    return IdxPaths(*paths)  # type: ignore[arg-type]


_ROLES = {
    "train_images": "*train*images* (or *train*idx3*)",
    "train_labels": "*train*labels* (or *train*idx1*)",
    "test_images": "*t10k*images* or *test*images*",
    "test_labels": "*t10k*labels* or *test*labels*",
}


def _role(name: str) -> str | None:
    lowered = name.lower()
    is_train = "train" in lowered
    is_test = "t10k" in lowered or "test" in lowered
    is_images = "images" in lowered or "idx3" in lowered
    is_labels = "labels" in lowered or "idx1" in lowered
    if is_train == is_test or is_images == is_labels:
        return None
    return ("train_" if is_train else "test_") + ("images" if is_images else "labels")


def match_folder(folder: Path) -> IdxPaths:
    """The train/test image/label IDX files in ``folder``, recognised by name (see :data:`_ROLES`)."""
    if not folder.is_dir():
        raise DatasetError(f"IDX folder not found: {folder}" if not folder.exists() else f"not a folder: {folder}")
    matches: dict[str, list[Path]] = {role: [] for role in _ROLES}
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise DatasetError(f"cannot list {folder}: {exc.strerror or exc}") from None
    for entry in entries:
        role = _role(entry.name)
        if role is not None and entry.is_file() and not entry.name.startswith("."):
            matches[role].append(entry)
    for role, found in matches.items():
        if not found:
            raise DatasetError(f"{folder}: no {role.replace('_', ' ')} file (looked for {_ROLES[role]})")
        if len(found) > 1:
            names = ", ".join(path.name for path in found)
            raise DatasetError(f"{folder}: {len(found)} files could be the {role.replace('_', ' ')}: {names}; keep one")
    return IdxPaths(*(matches[role][0] for role in _ROLES))


def read_dataset(
    paths: IdxPaths, cache: DecodedCache | None = None
) -> tuple[FloatArray, LabelArray, FloatArray, LabelArray]:
    """Decode the four files: train images, train labels, test images, test labels.

    With a ``cache`` the decoded arrays are stored on first use and memory-mapped (read-only) afterwards
    for as long as the files keep their size and modification time.
    """
    sources = [paths.train_images, paths.train_labels, paths.test_images, paths.test_labels]
    slot = key = ""
    if cache is not None:
        try:
            stamps = [stamp(path) for path in sources]
        except OSError as exc:
            raise DatasetError(f"cannot read {exc.filename}: {exc.strerror}") from None
        slot, key = "idx-" + digest(s[0] for s in stamps)[:16], digest(stamps)
        hit = cache.load(slot, key, mmap=True)
        if hit is not None:
            arrays = hit[0]
            return arrays["train_images"], arrays["train_labels"], arrays["test_images"], arrays["test_labels"]
    # The small test set decodes on a second thread while this one inflates the training images.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="netkit-test-set") as pool:
        test = pool.submit(read_pair, paths.test_images, paths.test_labels)
        train_images, train_labels = read_pair(paths.train_images, paths.train_labels)
        test_images, test_labels = test.result()
    if cache is not None:
        arrays = {
            "train_images": train_images,
            "train_labels": train_labels,
            "test_images": test_images,
            "test_labels": test_labels,
        }
        cache.store(slot, key, arrays, {})
    return train_images, train_labels, test_images, test_labels


def load(
    spec: IdxDatasetSpec,
    data_dir: Path | None = None,
    allow_download: bool = True,
    progress: ProgressCallback | None = None,
    cache: DecodedCache | None = None,
) -> Dataset:
    """Find (downloading when allowed) and decode the dataset."""
    paths = locate(spec, data_dir, allow_download, progress)
    train_images, train_labels, test_images, test_labels = read_dataset(paths, cache)
    return checked_dataset(spec.name, train_images, train_labels, test_images, test_labels, spec.class_names)


def checked_dataset(
    name: str,
    train_images: FloatArray,
    train_labels: LabelArray,
    test_images: FloatArray,
    test_labels: LabelArray,
    class_names: tuple[str, ...],
) -> Dataset:
    """A :class:`Dataset` from (n, rows, cols) images, checking that the labels fit the class names."""
    for labels, part in ((train_labels, "training"), (test_labels, "test")):
        if labels.size and int(labels.max()) >= len(class_names):
            raise DatasetError(
                f"{name}: {part} label {int(labels.max())} is out of range for {len(class_names)} classes"
            )
    if train_images.shape[1:] != test_images.shape[1:]:
        raise DatasetError(
            f"{name}: training images are {train_images.shape[1:]} but test images {test_images.shape[1:]}"
        )
    rows, columns = train_images.shape[1:]
    return Dataset(
        name,
        train_images.reshape(len(train_images), -1),
        train_labels,
        test_images.reshape(len(test_images), -1),
        test_labels,
        class_names,
        (rows, columns),
    )


__all__ = [
    "FileStatus",
    "IdxDatasetSpec",
    "IdxFile",
    "IdxPaths",
    "checksum_problem",
    "download",
    "load",
    "locate",
    "match_folder",
    "mirror_variable",
    "read_dataset",
    "status",
]
