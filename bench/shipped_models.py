"""The shipped models side by side on digits from MNIST and from outside it: the README's "Shipped models" table.

    NETKIT_DATA=/path/to/data .venv/bin/python bench/shipped_models.py

Four sets, each prepared as ``netkit predict`` prepares an image (``netkit.data.images``: ink, crop, fit in
20x20, centre by mass in 28x28):

- ``MNIST test``: the 10,000 test digits (already MNIST-like: scored as they are);
- ``fonts``: the digits 0-9 rendered with Pillow, black on white, in every handwriting-like font that
  ``fc-list`` finds among ``FONT_FAMILIES`` (on Debian: ``apt-get install fonts-dkg-handwriting fonts-breip
  fonts-femkeklaver fonts-humor-sans fonts-comic-neue fonts-bwht fonts-rufscript fonts-kristi
  fonts-dancingscript fonts-kaushanscript``), one image per font file and digit;
- ``seed-digits``: the original program's 1,000 digits (``$NETKIT_DATA/seed-digits``, RGBA with the ink in
  the alpha channel), each read from its file by ``netkit.data.images.load_image`` as ``netkit predict`` does;
- ``pad drawings``: the 50 drawings of tests/test_web_drawings.py (digits drawn as the ``netkit serve`` pad
  draws them: in the middle, in corners, tall against an edge; thin, pen-sized and thick strokes).

Prints which fonts and how many images each set has, then one Markdown row per shipped model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from netkit.data.images import load_image, to_mnist
from netkit.io import load_model
from netkit.model.evaluation import evaluate
from netkit.pretrained import SHIPPED_MODELS, shipped_model_path
from netkit.registry import default_registry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the pad drawings live with the test that holds the shipped model to them

from tests.test_web_drawings import CASES, DIGITS, PLACES, WIDTHS, drawing  # noqa: E402

FONT_FAMILIES = (
    "DkgHandwriting",
    "Breip",
    "femkeklaver",
    "Humor Sans",
    "Comic Neue",
    "Because We",  # six fonts: Build, Connect, Create, Learn, Mentor, Organize
    "Rufscript",
    "Kristi",
    "Dancing Script",
    "Kaushan Script",
)
GLYPH_SIZE = 160  # points; the preprocessing scales every digit to fit 20x20 anyway

Set = tuple[np.ndarray, np.ndarray]


def handwriting_fonts() -> list[tuple[str, Path]]:
    """(family, file) of every installed font of ``FONT_FAMILIES``, sorted by file."""
    listing = subprocess.run(["fc-list", ":", "family", "file"], capture_output=True, text=True, check=False).stdout
    found = []
    for line in listing.splitlines():
        file, _, families = line.partition(": ")
        family = families.split(",")[0].strip()
        if any(family.startswith(wanted) for wanted in FONT_FAMILIES):
            found.append((family, Path(file)))
    return sorted(found, key=lambda item: str(item[1]))


def rendered_digit(font: ImageFont.FreeTypeFont, digit: int) -> Image.Image:
    """The digit in black on a white page with room around it."""
    page = Image.new("L", (3 * GLYPH_SIZE, 3 * GLYPH_SIZE), 255)
    ImageDraw.Draw(page).text((GLYPH_SIZE, GLYPH_SIZE // 2), str(digit), font=font, fill=0)
    return page


def font_digits(fonts: list[tuple[str, Path]]) -> Set:
    rows, labels = [], []
    for _, file in fonts:
        font = ImageFont.truetype(str(file), GLYPH_SIZE)
        for digit in range(10):
            rows.append(to_mnist(rendered_digit(font, digit)))
            labels.append(digit)
    return np.array(rows), np.array(labels)


def seed_digits(folder: Path) -> Set:
    """Every PNG under ``folder``, labelled by its first folder (``7/7/10001.png`` shows a 7)."""
    files = sorted(folder.rglob("*.png"))
    labels = [int(file.relative_to(folder).parts[0]) for file in files]
    return np.array([load_image(file) for file in files]), np.array(labels)


def pad_drawings() -> Set:
    rows = [to_mnist(drawing(DIGITS[digit], WIDTHS[width], PLACES[place])) for digit, place, width in CASES]
    return np.array(rows), np.array([int(digit) for digit, _, _ in CASES])


def main() -> None:
    data_root = Path(os.environ.get("NETKIT_DATA", ROOT / "data"))
    mnist = default_registry().create("datasets", "mnist").load(data_dir=data_root / "mnist", download=False)
    fonts = handwriting_fonts()
    sets: dict[str, Set] = {"MNIST test": (mnist.test_images, mnist.test_labels)}
    if fonts:
        sets["fonts"] = font_digits(fonts)
    if (data_root / "seed-digits").is_dir():
        sets["seed-digits"] = seed_digits(data_root / "seed-digits")
    sets["pad drawings"] = pad_drawings()
    print(f"fonts ({len(fonts)} files): " + ", ".join(sorted({family for family, _ in fonts})))
    print("images: " + ", ".join(f"{name} {len(labels):,}" for name, (_, labels) in sets.items()))
    print(f"load average {os.getloadavg()[0]:.1f}\n")
    print("| model | parameters | file | " + " | ".join(sets) + " |")
    print("|---|---|---|" + "---|" * len(sets))
    for name in SHIPPED_MODELS:
        path = shipped_model_path(name)
        model = load_model(path).model
        cells = []
        for images, labels in sets.values():
            right = round(evaluate(model, images, labels).accuracy * len(labels))
            cells.append(f"{100 * right / len(labels):.2f}% ({right:,} of {len(labels):,})")
        size = f"{path.stat().st_size / 1000:.0f} kB"
        print(f"| `{name}`: {model} | {model.parameter_count:,} | {size} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
