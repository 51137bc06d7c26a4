"""Picture files drawn by the core: loss plots (PNG and SVG), weight grids, galleries, class rows."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from netkit.pictures.canvas import dash_segments
from netkit.pictures.colours import NEGATIVE, POSITIVE
from netkit.pictures.grids import WeightLayer, class_rows, gallery, square_shape, weight_picture
from netkit.pictures.mistakes import find_mistakes
from netkit.pictures.plot import TRAIN_COLOUR, VALIDATION_COLOUR, loss_plot
from netkit.training.trainer import EpochRecord, History


def _history(epochs: int = 10, steps: int = 50) -> History:
    records = [EpochRecord(e, 0.6 / e, 0.3 + 0.01 * (e - 4) ** 2, 0.9, 0.1, 400_000.0) for e in range(1, epochs + 1)]
    iterations = list(np.geomspace(2.3, 0.05, epochs * steps))
    return History(records, iterations)


def _colours(image: Image.Image) -> set[tuple[int, int, int]]:
    return {tuple(pixel) for pixel in np.asarray(image.convert("RGB")).reshape(-1, 3).tolist()}


def test_loss_plot_png_draws_both_curves_in_their_colours(tmp_path: Path) -> None:
    figure = loss_plot(_history(), "Training curves of m.h5", "784-16-16-10")
    figure.save(tmp_path / "loss.png")
    with Image.open(tmp_path / "loss.png") as image:
        assert image.format == "PNG" and image.size == (figure.width, figure.height)
        colours = _colours(image)
    assert NEGATIVE in colours and POSITIVE in colours  # train blue, validation orange
    assert len(colours) > 20  # axes, text, curves: not a blank canvas


def test_loss_plot_svg_is_valid_xml_with_a_title_legend_and_the_best_epoch(tmp_path: Path) -> None:
    loss_plot(_history(), "Training curves of m.h5").save(tmp_path / "loss.svg")
    root = ElementTree.parse(tmp_path / "loss.svg").getroot()
    assert root.tag.endswith("svg")
    texts = [element.text or "" for element in root.iter() if element.tag.endswith("text")]
    assert "Training curves of m.h5" in texts and "epoch" in texts
    assert any(text.startswith("best epoch 4") for text in texts)  # validation is lowest at epoch 4
    assert "validation loss" in texts and "loss (log scale)" in texts
    lines = [element for element in root.iter() if element.tag.endswith("polyline")]
    strokes = {(line.get("stroke"), line.get("stroke-dasharray")) for line in lines}
    assert (TRAIN_COLOUR, None) in strokes  # train solid
    assert any(colour == VALIDATION_COLOUR and dash for colour, dash in strokes)  # validation dashed


def test_a_history_without_epochs_cannot_be_plotted() -> None:
    with pytest.raises(ValueError, match="no epochs"):
        loss_plot(History(), "empty")


def test_dashes_cover_the_drawn_length_and_skip_the_gaps() -> None:
    pieces = dash_segments([(0.0, 0.0), (30.0, 0.0)], (5.0, 5.0))
    assert [(piece[0][0], piece[-1][0]) for piece in pieces] == [(0, 5), (10, 15), (20, 25)]
    assert dash_segments([(0.0, 0.0), (1.0, 1.0)], None) == [[(0.0, 0.0), (1.0, 1.0)]]


def _tile_count(image: Image.Image, tile: int) -> int:
    """Tiles found along the first tile row: runs of ``tile`` non-white columns."""
    pixels = np.asarray(image.convert("RGB")).astype(int)
    coloured = (np.abs(pixels - 247).sum(axis=2) > 30) & (pixels.std(axis=2) > 20)  # not white, grey or text
    rows = np.flatnonzero(coloured.sum(axis=1) > tile)
    band = coloured[rows[0] : rows[0] + tile]
    columns = band.any(axis=0).astype(int)
    starts = np.flatnonzero(np.diff(np.concatenate([[0], columns])) == 1)
    return len(starts)


def test_weight_picture_has_a_tile_per_unit_in_the_shared_colours() -> None:
    rng = np.random.default_rng(0)
    first = rng.normal(0, 0.3, (784, 16))
    picture = weight_picture(
        [WeightLayer("layer 1 (784 inputs, 16 units)", first), WeightLayer("layer 2", rng.normal(0, 1, (16, 10)))],
        "Weights of m.h5",
    )
    # 16 units at 3x: 84-pixel tiles, 8 to a row; the first tile row holds 8 of them.
    assert _tile_count(picture, 84) == 8
    colours = _colours(picture)
    assert NEGATIVE in colours and POSITIVE in colours  # both ends reached: scaled to the 99th percentile
    width, height = picture.size
    assert 8 * 84 < width < 1200 and height > 2 * 84


def test_weight_picture_refuses_inputs_that_are_not_the_image() -> None:
    with pytest.raises(ValueError, match="20 inputs"):
        weight_picture([WeightLayer("layer 1", np.zeros((20, 4)))], "w")
    assert square_shape(784) == (28, 28) and square_shape(20) is None


def test_gallery_puts_captions_under_each_tile() -> None:
    images = np.zeros((3, 784), dtype=np.float32)
    images[:, 300:320] = 1.0
    picture = gallery(images, [["true 1", "read 7 · 90.0%"]] * 3, "Mistakes", ["3 of 10 wrong"], columns=3)
    pixels = np.asarray(picture.convert("L"))
    assert pixels.min() < 40 and pixels.max() == 255  # ink and paper
    assert picture.size[0] >= 3 * 84


def test_class_rows_draw_each_class_in_its_own_row() -> None:
    labels = np.repeat(np.arange(3), 4)
    images = np.zeros((12, 784), dtype=np.float32)
    for index, label in enumerate(labels):
        images[index, label * 200 : label * 200 + 100] = 1.0  # each class inks a different band
    picture = class_rows(images, labels, ["a", "b", "c"], 4, "samples")
    ink = np.asarray(picture.convert("L")) < 100
    inked_rows = np.flatnonzero(ink[:, 60:].any(axis=1))  # right of the class names
    assert inked_rows.size and inked_rows.max() - inked_rows.min() > 2 * 56  # spread over three rows


def test_mistakes_are_the_wrong_answers_most_confident_first() -> None:
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    labels = np.array([0, 0, 0, 1])
    found = find_mistakes(probabilities, labels, most=5)
    assert found.indices.tolist() == [1, 2] and found.predicted.tolist() == [1, 1]
    assert found.confidence.tolist() == [0.8, 0.6] and (found.total, found.n) == (2, 4)
    assert find_mistakes(probabilities, labels, most=1).indices.tolist() == [1]
