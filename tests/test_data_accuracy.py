"""Images from disk reach the network as MNIST would: the same accuracy on MNIST as PNGs, and the original
program's own digits read well only through the shared MNIST-style preprocessing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from netkit.data import Dataset
from netkit.io import load_model
from netkit.model.evaluation import evaluate
from netkit.model.network import Network
from netkit.plugins.datasets import PngFolder
from netkit.pretrained import pretrained_model_path


@pytest.fixture(scope="module")
def shipped_model() -> Network:
    return load_model(pretrained_model_path()).model


def _write_png_tree(root: Path, images: np.ndarray, labels: np.ndarray) -> None:
    for index, (pixels, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.rint(pixels.reshape(28, 28) * 255).astype(np.uint8), mode="L").save(folder / f"{index}.png")


def test_mnist_written_as_pngs_scores_as_the_idx_files_do(
    mnist: Dataset, shipped_model: Network, tmp_path: Path
) -> None:
    _write_png_tree(tmp_path / "test", mnist.test_images, mnist.test_labels)
    _write_png_tree(tmp_path / "train", mnist.train_images[:50], mnist.train_labels[:50])
    pngs = PngFolder(path=str(tmp_path), preprocess="resize", cache=False).load()
    assert pngs.test_images.shape == (10_000, 784)
    from_idx = evaluate(shipped_model, mnist.test_images, mnist.test_labels).accuracy
    from_png = evaluate(shipped_model, pngs.test_images, pngs.test_labels).accuracy
    assert abs(from_png - from_idx) <= 0.001, (from_idx, from_png)


def _all_images(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    images = np.concatenate([dataset.train_images, dataset.test_images])
    return images, np.concatenate([dataset.train_labels, dataset.test_labels])


def test_seed_digits_need_the_mnist_style_preprocessing(data_root: Path, shipped_model: Network) -> None:
    seed_digits = data_root / "seed-digits"
    centred = PngFolder(path=str(seed_digits), cache=False).load()
    raw = PngFolder(path=str(seed_digits), preprocess="resize", cache=False).load()
    assert len(centred.train_labels) + len(centred.test_labels) == 1_000
    centred_accuracy = evaluate(shipped_model, *_all_images(centred)).accuracy
    raw_accuracy = evaluate(shipped_model, *_all_images(raw)).accuracy
    assert centred_accuracy >= 0.9 and raw_accuracy <= 0.5, (centred_accuracy, raw_accuracy)
