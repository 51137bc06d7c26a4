"""How well a model reads digits that are not plain MNIST: a set of our own, made from the MNIST test set.

    .venv/bin/python bench/robustness.py [MODEL ...]      # default: the shipped model

Sets (each from the 10,000 MNIST test digits, seeded, made with Pillow and NumPy only, independently of
netkit's augmentation code):

- ``mnist``: the test set as it is;
- ``shifted``: each digit moved by 3 pixels in a random one of the 8 directions;
- ``rotated``: each digit turned by 15 degrees, clockwise or anticlockwise at random;
- ``thick``: strokes thickened by a 3x3 maximum filter;
- ``photo``: the digit written dark-on-light at 3x size on grey paper with uneven light and noise, then
  through netkit's own MNIST-style preprocessing (what ``netkit predict`` does to a photo);
- ``seed-digits``: the original program's 1,000 digits (``$NETKIT_DATA/seed-digits``), preprocessed.

Prints one row per model with the accuracy on each set. Not run by CI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from netkit.data.images import to_mnist
from netkit.io import load_model
from netkit.model.evaluation import evaluate
from netkit.plugins.datasets import PngFolder
from netkit.pretrained import pretrained_model_path
from netkit.registry import default_registry

DIRECTIONS = [(dr, dc) for dr in (-3, 0, 3) for dc in (-3, 0, 3) if (dr, dc) != (0, 0)]


def shifted(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    result = np.zeros_like(images)
    for index, image in enumerate(images):
        dr, dc = DIRECTIONS[rng.integers(len(DIRECTIONS))]
        moved = np.roll(image, (dr, dc), axis=(0, 1))
        # np.roll wraps around: clear what came in from the other side.
        if dr > 0:
            moved[:dr] = 0
        elif dr < 0:
            moved[dr:] = 0
        if dc > 0:
            moved[:, :dc] = 0
        elif dc < 0:
            moved[:, dc:] = 0
        result[index] = moved
    return result


def _pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(np.rint(image * 255).astype(np.uint8), mode="L")


def rotated(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    angles = rng.choice([-15.0, 15.0], len(images))
    turned = [
        np.asarray(_pil(image).rotate(angle, Image.BILINEAR), dtype=np.float32) / 255
        for image, angle in zip(images, angles, strict=True)
    ]
    return np.stack(turned)


def thick(images: np.ndarray) -> np.ndarray:
    return np.stack(
        [np.asarray(_pil(image).filter(ImageFilter.MaxFilter(3)), dtype=np.float32) / 255 for image in images]
    )


def photo(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rows = []
    light = np.linspace(0.75, 0.95, 84, dtype=np.float32)[None, :] * np.ones((84, 1), dtype=np.float32)
    for image in images:
        ink = np.asarray(_pil(image).resize((84, 84), Image.BICUBIC), dtype=np.float32) / 255
        paper = light - 0.6 * ink + rng.normal(0, 0.03, (84, 84)).astype(np.float32)
        picture = _pil(np.clip(paper, 0, 1)).filter(ImageFilter.GaussianBlur(1))
        rows.append(to_mnist(picture))
    return np.stack(rows)


def main() -> None:
    paths = [Path(argument) for argument in sys.argv[1:]] or [pretrained_model_path()]
    data_root = Path(os.environ.get("NETKIT_DATA", "."))
    mnist = default_registry().create("datasets", "mnist").load(data_dir=data_root / "mnist", download=False)
    images = mnist.test_images.reshape(-1, 28, 28)
    labels = mnist.test_labels
    rng = np.random.default_rng(2026)
    sets = {
        "mnist": (mnist.test_images, labels),
        "shifted": (shifted(images, rng).reshape(-1, 784), labels),
        "rotated": (rotated(images, rng).reshape(-1, 784), labels),
        "thick": (thick(images).reshape(-1, 784), labels),
        "photo": (photo(images, rng), labels),
    }
    seed_digits = data_root / "seed-digits"
    if seed_digits.is_dir():
        loaded = PngFolder(path=str(seed_digits), cache=False).load()
        sets["seed-digits"] = (
            np.concatenate([loaded.train_images, loaded.test_images]),
            np.concatenate([loaded.train_labels, loaded.test_labels]),
        )
    print("| model | " + " | ".join(sets) + " |")
    print("|---|" + "---|" * len(sets))
    for path in paths:
        model = load_model(path).model
        scores = [evaluate(model, x, y).accuracy for x, y in sets.values()]
        print(f"| {path.name} | " + " | ".join(f"{100 * score:.2f}%" for score in scores) + " |", flush=True)


if __name__ == "__main__":
    main()
