"""The png-folder dataset: class folders (nested), any image mode, splits, skipped files, the decoded cache."""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import netkit.data.imagefolder as imagefolder
from netkit.data import Dataset
from netkit.data.dataset import DatasetWarning
from netkit.data.imagefolder import decode, scan
from netkit.errors import DatasetError
from netkit.plugins.datasets import PngFolder
from tests.data_helpers import isolated_cache, mnist_test_pixels, write_png_tree

__all__ = ["isolated_cache"]  # a fixture, used by name


def _digit_ink(value: int) -> np.ndarray:
    """A distinct 28x28 uint8 glyph per class: a bar whose position encodes the class."""
    ink = np.zeros((28, 28), dtype=np.uint8)
    ink[4:24, 2 + 2 * value : 5 + 2 * value] = 255
    return ink


def _save(path: Path, image: Image.Image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _mixed_tree(root: Path) -> None:
    """Three ways to store the same kind of digit, in nested and flat class folders."""
    for digit in (3, 7):
        for copy in range(4):
            ink = _digit_ink(digit)
            rgba = np.zeros((28, 28, 4), dtype=np.uint8)
            rgba[..., 3] = ink  # ink in alpha, as in the original program's data
            _save(root / str(digit) / str(digit) / f"alpha{copy}.png", Image.fromarray(rgba, "RGBA"))
            _save(root / str(digit) / f"paper{copy}.png", Image.fromarray(255 - ink))  # dark on light gray
            rgb = np.repeat((255 - ink)[..., None], 3, axis=2)
            _save(root / str(digit) / "deeper" / "still" / f"rgb{copy}.jpg", Image.fromarray(rgb, "RGB"))


def test_nested_class_folders_of_mixed_modes_load_with_folder_names_as_labels(tmp_path: Path) -> None:
    _mixed_tree(tmp_path)
    dataset = PngFolder(path=str(tmp_path), preprocess="resize", test_fraction=0.25, cache=False).load()
    assert dataset.class_names == tuple("01234567")  # numeric folders: the number is the label
    assert len(dataset.train_images) == 18 and len(dataset.test_images) == 6
    labels = np.concatenate([dataset.train_labels, dataset.test_labels])
    assert np.bincount(labels).tolist() == [0, 0, 0, 12, 0, 0, 0, 12]
    images = np.concatenate([dataset.train_images, dataset.test_images])
    for digit in (3, 7):
        expected = (_digit_ink(digit) / np.float32(255)).reshape(784)
        for row in images[labels == digit]:
            assert np.abs(row - expected).max() < 0.1  # alpha, inverted gray and JPEG RGB agree


def test_named_class_folders_are_sorted_and_numbered(tmp_path: Path) -> None:
    for name in ("dog", "cat", "bird"):
        _save(tmp_path / name / "a.png", Image.fromarray(_digit_ink(1)))
        _save(tmp_path / name / "b.png", Image.fromarray(_digit_ink(2)))
    dataset = PngFolder(path=str(tmp_path), cache=False).load()
    assert dataset.class_names == ("bird", "cat", "dog")


def test_train_and_test_folders_give_the_split(tmp_path: Path) -> None:
    for part, count in (("train", 3), ("test", 2)):
        for index in range(count):
            _save(tmp_path / part / "5" / f"{index}.png", Image.fromarray(_digit_ink(5)))
    _save(tmp_path / "test" / "9" / "x.png", Image.fromarray(_digit_ink(9)))
    dataset = PngFolder(path=str(tmp_path), cache=False).load()
    assert len(dataset.train_images) == 3 and len(dataset.test_images) == 3
    assert dataset.test_labels.tolist() == [5, 5, 9] and dataset.n_classes == 10


def test_random_test_split_is_seeded(tmp_path: Path) -> None:
    write_png_tree(tmp_path, np.stack([_digit_ink(i % 10) for i in range(40)]), np.arange(40) % 10)
    first = PngFolder(path=str(tmp_path), preprocess="resize", seed=1, cache=False).load()
    again = PngFolder(path=str(tmp_path), preprocess="resize", seed=1, cache=False).load()
    other = PngFolder(path=str(tmp_path), preprocess="resize", seed=2, cache=False).load()
    assert len(first.test_images) == 8 and len(first.train_images) == 32
    np.testing.assert_array_equal(first.test_images, again.test_images)
    np.testing.assert_array_equal(first.test_labels, again.test_labels)
    assert not np.array_equal(first.test_images, other.test_images)


def test_non_image_files_are_skipped_with_one_warning_and_root_files_ignored(tmp_path: Path) -> None:
    _save(tmp_path / "4" / "a.png", Image.fromarray(_digit_ink(4)))
    _save(tmp_path / "4" / "b.png", Image.fromarray(_digit_ink(4)))
    (tmp_path / "4" / "notes.txt").write_text("drawn on a Tuesday")
    (tmp_path / "4" / "Thumbs.db").write_bytes(b"\x00")
    (tmp_path / "4" / ".DS_Store").write_bytes(b"\x00")  # hidden: ignored silently
    (tmp_path / "README.md").write_text("a file beside the class folders")
    with pytest.warns(
        DatasetWarning, match=r"skipped 2 non-image file\(s\) under .*, e\.g\. .*/4/(notes.txt|Thumbs.db)$"
    ):
        dataset = PngFolder(path=str(tmp_path), cache=False).load()
    assert len(dataset.train_images) + len(dataset.test_images) == 2


def test_corrupt_image_is_an_error_naming_the_file(tmp_path: Path) -> None:
    _save(tmp_path / "1" / "good.png", Image.fromarray(_digit_ink(1)))
    (tmp_path / "1" / "bad.png").write_bytes(b"not really a png")
    with pytest.raises(DatasetError, match=r"cannot read image .*1/bad.png") as caught:
        PngFolder(path=str(tmp_path), cache=False).load()
    assert "\n" not in str(caught.value)


def test_empty_and_wrong_folders_are_one_line_errors(tmp_path: Path, isolated_cache: Path) -> None:
    with pytest.raises(DatasetError, match="holds no class folders"):
        PngFolder(path=str(tmp_path)).load()
    (tmp_path / "2").mkdir()
    (tmp_path / "2" / "readme.txt").write_text("no images yet")
    with pytest.raises(DatasetError, match=r"class folder .*/2 holds no images"):
        PngFolder(path=str(tmp_path)).load()
    with pytest.raises(DatasetError, match=r"image folder not found: .*nowhere"):
        PngFolder().load(data_dir=tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="not a folder"):
        PngFolder(path=str(tmp_path / "2" / "readme.txt")).load()
    with pytest.raises(DatasetError, match="no image folder given"):
        PngFolder().load()


def test_single_image_cannot_be_split(tmp_path: Path) -> None:
    _save(tmp_path / "0" / "only.png", Image.fromarray(_digit_ink(0)))
    with pytest.raises(DatasetError, match="holds 1 image"):
        PngFolder(path=str(tmp_path), cache=False).load()


def test_decoded_images_are_cached_until_a_file_changes(
    tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "digits"
    write_png_tree(root, np.stack([_digit_ink(i % 3) for i in range(12)]), np.arange(12) % 3)
    cold = PngFolder(path=str(root)).load()
    decoded: list[int] = []
    real_decode = imagefolder.decode

    def counting_decode(files: list[Path], center: bool, workers: int | None = None) -> np.ndarray:
        decoded.append(len(files))
        return real_decode(files, center, workers)

    monkeypatch.setattr(imagefolder, "decode", counting_decode)
    warm = PngFolder(path=str(root)).load()
    assert decoded == []  # served from the cache
    np.testing.assert_array_equal(cold.train_images, warm.train_images)
    PngFolder(path=str(root), preprocess="resize").load()
    assert decoded == [12]  # another preprocessing is another entry
    changed = root / "1" / "00001.png"
    Image.fromarray(_digit_ink(9)).save(changed)
    os.utime(changed, ns=(1, 1))  # a new modification time, whatever the clock's resolution
    PngFolder(path=str(root)).load()
    assert decoded == [12, 12]


@pytest.fixture(scope="module")
def mnist_png_copy(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> Path:
    """MNIST's 10,000 test digits as 28x28 grayscale PNGs under test/, with 100 training digits beside."""
    root = tmp_path_factory.mktemp("mnist-png")
    images, labels = mnist_test_pixels(mnist_dir)
    write_png_tree(root / "test", images, labels)
    write_png_tree(root / "train", images[:100], labels[:100])
    return root


def test_mnist_saved_as_png_reads_back_within_one_level_with_resize(mnist_png_copy: Path, mnist_dir: Path) -> None:
    dataset = PngFolder(path=str(mnist_png_copy), preprocess="resize", cache=False).load()
    pixels, labels = mnist_test_pixels(mnist_dir)
    order = np.lexsort((np.arange(len(labels)), labels))  # folder by folder, file names ascending
    expected = (pixels[order] / np.float32(255)).reshape(-1, 784)
    assert dataset.test_images.shape == (10000, 784) and dataset.test_images.dtype == np.float32
    np.testing.assert_array_equal(dataset.test_labels, labels[order])
    assert float(np.abs(dataset.test_images - expected).max()) <= 1 / 255


def test_parallel_and_serial_decoding_agree(mnist_png_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pools: list[object] = []
    real_fork_pool = imagefolder._fork_pool

    def recording_fork_pool(workers: int) -> object:
        pool = real_fork_pool(workers)
        pools.append(pool)
        return pool

    monkeypatch.setattr(imagefolder, "_fork_pool", recording_fork_pool)
    files = scan(mnist_png_copy / "test").files[:2500]
    parallel = decode(files, center=True, workers=2)
    # Workers are forked only while this process runs no other Python thread (see _fork_pool).
    assert pools and (pools[0] is not None or threading.active_count() > 1)
    np.testing.assert_array_equal(parallel, decode(files, center=True, workers=1))


def test_seed_digits_folder_loads_all_1000_images(data_root: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetWarning)  # the README at the root is no reason to warn
        dataset: Dataset = PngFolder(path=str(data_root / "seed-digits"), cache=False).load()
    assert len(dataset.train_images) + len(dataset.test_images) == 1000
    labels = np.concatenate([dataset.train_labels, dataset.test_labels])
    assert np.bincount(labels).tolist() == [100] * 10
    assert dataset.class_names == tuple("0123456789")
    assert float(dataset.train_images.max()) == 1.0 and float(dataset.train_images.min()) == 0.0
