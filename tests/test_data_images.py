"""The shared preprocessing: any image becomes an MNIST-like row, by the documented rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from netkit.data.images import load_image, to_mnist
from netkit.errors import DatasetError


def _stroke(size: tuple[int, int] = (60, 90), box: tuple[int, int, int, int] = (10, 20, 30, 70)) -> np.ndarray:
    """A float ink map: 1 inside ``box`` (left, top, right, bottom), 0 elsewhere."""
    ink = np.zeros((size[1], size[0]), dtype=np.float32)
    left, top, right, bottom = box
    ink[top:bottom, left:right] = 1.0
    return ink


# Whole-pixel shifts place the centre of mass within half a pixel of (14, 14).
CENTER_TOLERANCE = 0.5 + 1e-3


def _mass_center(row: np.ndarray) -> tuple[float, float]:
    image = row.reshape(28, 28)
    total = image.sum()
    return float(image.sum(axis=1) @ np.arange(28) / total), float(image.sum(axis=0) @ np.arange(28) / total)


def _ink_box(row: np.ndarray) -> tuple[int, int]:
    image = row.reshape(28, 28) > 0.05
    rows, columns = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(columns[-1] - columns[0] + 1)


def test_result_is_a_float32_row_of_784_in_unit_range() -> None:
    row = to_mnist(Image.fromarray((_stroke() * 255).astype(np.uint8)))
    assert row.shape == (784,) and row.dtype == np.float32
    assert float(row.min()) >= 0.0 and float(row.max()) <= 1.0


def test_centering_fits_the_ink_in_20_pixels_and_puts_its_mass_at_14_14() -> None:
    row = to_mnist(Image.fromarray((_stroke() * 255).astype(np.uint8)))
    height, width = _ink_box(row)
    assert height == 20 and width <= 10  # a 50x20 bar keeps its 5:2 aspect ratio
    center_row, center_column = _mass_center(row)
    assert abs(center_row - 14) <= CENTER_TOLERANCE and abs(center_column - 14) <= CENTER_TOLERANCE


def test_alpha_channel_is_the_ink_whatever_the_colour() -> None:
    rgba = np.zeros((90, 60, 4), dtype=np.uint8)
    rgba[..., :3] = 255  # white everywhere: only alpha tells the stroke from the background
    rgba[..., 3] = (_stroke() * 255).astype(np.uint8)
    from_alpha = to_mnist(Image.fromarray(rgba, "RGBA"))
    from_gray = to_mnist(Image.fromarray((_stroke() * 255).astype(np.uint8)))
    np.testing.assert_allclose(from_alpha, from_gray, atol=1e-6)


def test_fully_opaque_alpha_is_ignored_and_the_colours_are_used() -> None:
    rgba = np.full((90, 60, 4), 255, dtype=np.uint8)
    rgba[..., :3] = ((1 - _stroke()) * 255).astype(np.uint8)[..., None]  # black ink on white, opaque
    expected = to_mnist(Image.fromarray((_stroke() * 255).astype(np.uint8)))
    np.testing.assert_allclose(to_mnist(Image.fromarray(rgba, "RGBA")), expected, atol=1e-6)


@pytest.mark.parametrize("mode", ["L", "RGB", "1", "P", "I;16"])
def test_dark_ink_on_light_paper_is_inverted_in_every_mode(mode: str) -> None:
    light_on_dark = to_mnist(Image.fromarray((_stroke() * 255).astype(np.uint8)))
    paper = Image.fromarray(((1 - _stroke()) * 255).astype(np.uint8)).convert(mode)
    np.testing.assert_allclose(to_mnist(paper), light_on_dark, atol=1e-6)


def test_grey_paper_becomes_black_background() -> None:
    paper = np.where(_stroke() > 0, 20, 200).astype(np.uint8)  # dark ink on grey paper
    row = to_mnist(Image.fromarray(paper), center=False)
    image = row.reshape(28, 28)
    assert float(image.max()) == 1.0
    assert not image[:2].any() and not image[:, -5:].any()  # the paper is gone


def test_resize_mode_keeps_a_28x28_image_exactly() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    pixels[0, :] = pixels[-1, :] = pixels[:, 0] = pixels[:, -1] = 0  # a dark border, like MNIST
    row = to_mnist(Image.fromarray(pixels), center=False)
    np.testing.assert_array_equal(row, (pixels / np.float32(255)).reshape(784))


def test_resize_mode_scales_other_sizes_to_28x28() -> None:
    stroke = _stroke(size=(56, 56), box=(8, 8, 28, 48))
    image = to_mnist(Image.fromarray((stroke * 255).astype(np.uint8)), center=False).reshape(28, 28)
    assert image[5:23, 5:13].min() > 0.9 and image[:, 16:].max() < 0.1 and image[:3].max() < 0.1


def test_blank_image_gives_zeros() -> None:
    assert not to_mnist(Image.new("L", (40, 40), 255)).any()
    assert not to_mnist(Image.new("RGBA", (40, 40), (0, 0, 0, 0))).any()


def test_load_image_errors_are_one_line_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"image file not found: .*missing.png"):
        load_image(tmp_path / "missing.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(DatasetError, match=r"cannot read image .*broken.png") as caught:
        load_image(broken)
    assert "\n" not in str(caught.value)
    good = tmp_path / "good.png"
    Image.fromarray((_stroke() * 255).astype(np.uint8)).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(DatasetError, match=r"truncated.png"):
        load_image(truncated)


def test_drawn_digit_on_white_canvas_lands_where_mnist_digits_do() -> None:
    canvas = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(canvas).line([(200, 30), (210, 170)], fill="black", width=14)  # a "1" far off-centre
    row = to_mnist(canvas)
    height, _ = _ink_box(row)
    assert height == 20
    center_row, center_column = _mass_center(row)
    assert abs(center_row - 14) <= CENTER_TOLERANCE and abs(center_column - 14) <= CENTER_TOLERANCE


def test_photo_is_turned_upright_by_its_exif_orientation(tmp_path: Path) -> None:
    upright = (_stroke(size=(60, 90), box=(10, 5, 50, 25)) * 255).astype(np.uint8)  # a bar near the top
    stored = Image.fromarray(np.rot90(upright).copy())  # as a camera held sideways stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    path = tmp_path / "photo.jpg"
    stored.save(path, exif=exif, quality=95)
    row = load_image(path, center=False).reshape(28, 28)
    assert row[:10].mean() > 0.3 and row[18:].max() < 0.2
