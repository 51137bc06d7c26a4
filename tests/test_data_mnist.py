"""MNIST, Fashion-MNIST and IDX folders: the real data's facts, the search order, the decoded cache."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from netkit.data import Dataset
from netkit.data.decoded import DecodedCache
from netkit.data.idx import write_idx
from netkit.data.idxset import match_folder, read_dataset, status
from netkit.errors import DatasetError
from netkit.plugins.datasets import FASHION_MNIST, MNIST, FashionMnist, IdxFolder, Mnist
from tests.data_helpers import MNIST_STEMS, isolated_cache

__all__ = ["isolated_cache"]  # a fixture, used by name


@pytest.fixture(scope="module")
def real_mnist(mnist_dir: Path) -> Dataset:
    return Mnist().load(data_dir=mnist_dir, download=False)


def test_real_mnist_has_60000_training_and_10000_test_images(real_mnist: Dataset) -> None:
    assert real_mnist.train_images.shape == (60000, 784)
    assert real_mnist.test_images.shape == (10000, 784)
    assert real_mnist.train_labels.shape == (60000,) and real_mnist.test_labels.shape == (10000,)
    assert real_mnist.image_shape == (28, 28) and real_mnist.n_classes == 10


def test_real_mnist_test_label_histogram(real_mnist: Dataset) -> None:
    histogram = np.bincount(real_mnist.test_labels, minlength=10)
    assert histogram.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist_pixels_are_float32_spanning_exactly_0_to_1(real_mnist: Dataset) -> None:
    for images in (real_mnist.train_images, real_mnist.test_images):
        assert images.dtype == np.float32
        assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    assert real_mnist.train_labels.dtype == np.int64 and real_mnist.test_labels.dtype == np.int64


def test_real_mnist_files_match_their_published_checksums(mnist_dir: Path) -> None:
    report = Mnist().status(data_dir=mnist_dir)
    assert [entry.filename for entry in report] == list(MNIST_STEMS)
    for entry in report:
        assert entry.found is not None and entry.found.parent == mnist_dir
        assert entry.checksum_ok is True, entry.problem


def test_status_reports_a_damaged_copy_without_raising(tmp_path: Path, isolated_cache: Path) -> None:
    labels = np.zeros(10000, dtype=np.uint8)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + b"\x00" * 4))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)  # the raw file wins over the .gz
    report = {entry.filename: entry for entry in status(MNIST, tmp_path)}
    damaged = report["t10k-labels-idx1-ubyte"]
    assert damaged.found == tmp_path / "t10k-labels-idx1-ubyte" and damaged.checksum_ok is False
    assert "SHA-256" in (damaged.problem or "")
    missing = report["train-images-idx3-ubyte"]
    assert missing.found is None and missing.checksum_ok is None and not missing.present
    assert missing.searched[:2] == (tmp_path, tmp_path / "mnist")
    assert missing.searched[-1] == isolated_cache / "mnist"


def _copy_mnist(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for stem in MNIST_STEMS:
        os.symlink(source / f"{stem}.gz", target / f"{stem}.gz")
    return target


def test_search_order_is_data_dir_then_netkit_data_then_cache(
    mnist_dir: Path, tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = _copy_mnist(mnist_dir, isolated_cache / "mnist")
    assert {entry.found for entry in Mnist().status(verify=False)} == {cached / f"{s}.gz" for s in MNIST_STEMS}
    environment = _copy_mnist(mnist_dir, tmp_path / "root" / "mnist")
    monkeypatch.setenv("NETKIT_DATA", str(tmp_path / "root"))
    assert {entry.found.parent for entry in Mnist().status(verify=False) if entry.found} == {environment}
    given = _copy_mnist(mnist_dir, tmp_path / "given")
    assert {entry.found.parent for entry in Mnist().status(given, verify=False) if entry.found} == {given}
    # The data_dir may also be the parent of a mnist/ folder, like NETKIT_DATA.
    report = Mnist().status(tmp_path / "root", verify=False)
    assert {entry.found.parent for entry in report if entry.found} == {environment}


def test_missing_files_without_download_is_one_actionable_line(tmp_path: Path, isolated_cache: Path) -> None:
    with pytest.raises(DatasetError) as caught:
        Mnist().load(data_dir=tmp_path, download=False)
    message = str(caught.value)
    assert "\n" not in message
    assert "train-images-idx3-ubyte" in message and str(tmp_path) in message and "netkit data download" in message


def test_mismatched_counts_in_a_data_dir_name_both_files(tmp_path: Path, isolated_cache: Path) -> None:
    rng = np.random.default_rng(0)
    for prefix, n_images, n_labels in (("train", 5, 5), ("t10k", 3, 4)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n_images, 28, 28), dtype=np.uint8))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n_labels, dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte holds 3 images but .*t10k-labels.* holds 4"):
        Mnist().load(data_dir=tmp_path, download=False)


def test_truncated_mnist_file_is_a_dataset_error_naming_it(
    mnist_dir: Path, tmp_path: Path, isolated_cache: Path
) -> None:
    folder = _copy_mnist(mnist_dir, tmp_path / "copy")
    victim = folder / "t10k-images-idx3-ubyte.gz"
    data = victim.read_bytes()
    victim.unlink()
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.gz: the gzip stream ends early"):
        Mnist().load(data_dir=folder, download=False)


def test_decoded_cache_returns_the_same_arrays_and_notices_changes(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    _tiny_idx_set(folder, {role: f"{role.replace('_', '-')}.gz" for role in ROLES})
    paths = match_folder(folder)
    cache = DecodedCache(tmp_path / "decoded")
    cold = read_dataset(paths, cache)
    warm = read_dataset(paths, cache)
    for first, second in zip(cold, warm, strict=True):
        np.testing.assert_array_equal(first, second)
    assert not warm[0].flags.writeable  # a read-only memory map
    # Replace the test labels by other content: the cache must not serve the old arrays.
    write_idx(folder / "test-labels.gz", np.full(4, 7, dtype=np.uint8), compress=True)
    changed = read_dataset(paths, cache)
    assert changed[3].tolist() == [7, 7, 7, 7]
    (slot,) = (tmp_path / "decoded").iterdir()
    assert len(list(slot.iterdir())) == 1  # the stale entry was deleted


def test_mnist_cache_option_memory_maps_later_loads(mnist_dir: Path, isolated_cache: Path) -> None:
    first = Mnist(cache=True).load(data_dir=mnist_dir, download=False)
    second = Mnist(cache=True).load(data_dir=mnist_dir, download=False)
    assert (isolated_cache / "decoded").is_dir()
    assert first.train_images.flags.writeable and not second.train_images.flags.writeable
    np.testing.assert_array_equal(first.test_images, second.test_images)


ROLES = ("train_images", "train_labels", "test_images", "test_labels")


def _tiny_idx_set(folder: Path, names: dict[str, str], n_classes: int = 10) -> None:
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    for role, name in names.items():
        count = 6 if role.startswith("train") else 4
        if role.endswith("images"):
            data = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        else:
            data = (np.arange(count) % n_classes).astype(np.uint8)
        write_idx(folder / name, data, compress=name.endswith(".gz"))


def test_fashion_mnist_has_its_class_names_and_debian_location(tmp_path: Path, isolated_cache: Path) -> None:
    _tiny_idx_set(tmp_path, {f"{stem.split('-')[0]}_{stem.split('-')[1]}": f"{stem}.gz" for stem in MNIST_STEMS})
    dataset = FashionMnist().load(data_dir=tmp_path, download=False)
    assert dataset.class_names == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip
    assert dataset.n_classes == 10  # labels 0..9, Sneaker is 7
    assert dataset.name == "fashion-mnist" and dataset.train_images.shape == (6, 784)
    assert FASHION_MNIST.search_dirs()[-1] == Path("/usr/share/datasets/fashion-mnist")
    assert FASHION_MNIST.search_dirs()[-2] == isolated_cache / "fashion-mnist"


def test_idx_folder_finds_pairs_by_name(tmp_path: Path) -> None:
    names = {
        "train_images": "my-train-images.idx3.gz",
        "train_labels": "my-train-labels.idx1",
        "test_images": "my-test-images.idx3",
        "test_labels": "my-test-labels.idx1.gz",
    }
    _tiny_idx_set(tmp_path / "set", names, n_classes=3)
    (tmp_path / "set" / "README.txt").write_text("not an IDX file")
    dataset = IdxFolder(path=str(tmp_path / "set")).load()
    assert dataset.class_names == ("0", "1", "2")
    assert dataset.test_images.shape == (4, 784)
    named = IdxFolder(class_names=["a", "b", "c"]).load(data_dir=tmp_path / "set")
    assert named.class_names == ("a", "b", "c")


def test_idx_folder_with_two_candidates_is_ambiguous(tmp_path: Path, mnist_dir: Path) -> None:
    folder = _copy_mnist(mnist_dir, tmp_path / "set")
    os.symlink(mnist_dir / "t10k-labels-idx1-ubyte.gz", folder / "test-labels-copy.gz")
    with pytest.raises(DatasetError, match=r"2 files could be the test labels: t10k-labels-idx1-ubyte.gz, test-labels"):
        IdxFolder(path=str(folder)).load()


def test_idx_folder_missing_a_file_says_which_pattern(tmp_path: Path) -> None:
    _tiny_idx_set(
        tmp_path, {"train_images": "train-images", "train_labels": "train-labels", "test_images": "t10k-images"}
    )
    with pytest.raises(DatasetError, match=r"no test labels file \(looked for \*t10k\*labels\*"):
        IdxFolder(path=str(tmp_path)).load()
    with pytest.raises(DatasetError, match=r"IDX folder not found: .*nowhere"):
        IdxFolder(path=str(tmp_path / "nowhere")).load()
    with pytest.raises(DatasetError, match="no IDX folder given"):
        IdxFolder().load()
