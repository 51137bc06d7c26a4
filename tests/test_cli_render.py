"""Rendering arrays for the terminal: digits, heat maps, probability bars, the confusion matrix."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console
from rich.style import Style
from rich.text import Text

from netkit.cli.render import (
    bar,
    confusion_table,
    digit_image,
    diverging_colour,
    heat_legend,
    heat_map,
    probability_table,
)


def _plain(renderable: object, width: int = 100) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(renderable)
    return buffer.getvalue()


def _span_styles(text: Text) -> list[Style]:
    return [span.style for span in text.spans if isinstance(span.style, Style)]


def test_a_28x28_image_takes_28_columns_and_14_lines() -> None:
    picture = digit_image(np.random.default_rng(0).random((28, 28)))
    lines = picture.plain.split("\n")
    assert len(lines) == 14 and all(len(line) == 28 for line in lines)
    assert set(picture.plain) <= {"▀", "\n"}


def test_half_blocks_paint_the_upper_pixel_in_front_and_the_lower_behind() -> None:
    pixels = np.zeros((2, 1))
    pixels[0, 0] = 1.0  # white ink above, black paper below
    style = _span_styles(digit_image(pixels))[0]
    assert style.color is not None and style.color.triplet is not None
    assert style.bgcolor is not None and style.bgcolor.triplet is not None
    assert tuple(style.color.triplet) == (255, 255, 255)
    assert tuple(style.bgcolor.triplet) == (0, 0, 0)


def test_without_colour_the_ink_is_drawn_with_half_blocks() -> None:
    pixels = np.zeros((4, 2))
    pixels[0, 0] = pixels[1, 0] = 1.0  # a full cell
    pixels[2, 1] = 1.0  # an upper half
    pixels[1, 1] = 1.0  # a lower half
    assert digit_image(pixels, colour=False).plain == "█▄\n ▀"


def test_diverging_colours_run_blue_white_orange() -> None:
    assert diverging_colour(-1.0) == (0x21, 0x66, 0xAC)
    assert diverging_colour(0.0) == (0xF7, 0xF7, 0xF7)
    assert diverging_colour(1.0) == (0xE6, 0x61, 0x01)
    assert diverging_colour(-5.0) == diverging_colour(-1.0)  # clipped


def test_heat_map_is_scaled_to_the_99th_percentile_so_one_outlier_does_not_wash_it_out() -> None:
    weights = np.full((28, 28), 0.1)
    weights[0, 0] = 50.0  # one outlier
    weights[1::2, :] = -0.1  # the lower pixel of every cell
    picture, limit = heat_map(weights)
    assert limit == pytest.approx(0.1)  # not the outlier's 50
    styles = _span_styles(picture)
    colours = {colour.get_truecolor() for style in styles for colour in (style.color, style.bgcolor) if colour}
    assert (0xE6, 0x61, 0x01) in colours and (0x21, 0x66, 0xAC) in colours  # ordinary weights get full colour


def test_heat_map_without_colour_is_a_character_ramp() -> None:
    weights = np.array([[-1.0, -0.3, 0.0, 0.3, 1.0]])
    picture, _ = heat_map(weights, colour=False)
    assert picture.plain == "==--  ++##"


def test_heat_map_scale_enlarges_each_weight() -> None:
    picture, _ = heat_map(np.ones((28, 28)), scale=2)
    lines = picture.plain.split("\n")
    assert len(lines) == 28 and len(lines[0]) == 56


def test_heat_map_of_zeros_does_not_divide_by_zero() -> None:
    picture, limit = heat_map(np.zeros((2, 2)))
    assert limit == 0.0 and picture.plain


def test_legend_shows_the_symmetric_range_and_states_the_scale() -> None:
    legend = heat_legend(0.83).plain
    assert legend.startswith("-0.83") and "+0.83" in legend
    assert "99th percentile" in legend
    plain = heat_legend(0.83, colour=False).plain
    assert "##" in plain and "==" in plain and "99th percentile" in plain


def test_bars_have_eighth_cell_resolution() -> None:
    assert bar(1.0, 4) == "████"
    assert bar(0.0, 4) == "    "
    assert bar(0.5 + 1 / 32, 4) == "██▏ "
    assert bar(float("nan"), 2) == "  "


def test_probability_table_marks_the_likely_class() -> None:
    output = _plain(probability_table([0.1, 0.7, 0.2], ["0", "1", "2"]))
    assert "70.00%" in output and "10.00%" in output
    best_row = next(line for line in output.splitlines() if "70.00%" in line)
    assert best_row.count("█") > 10


def test_confusion_table_has_counts_recall_and_precision() -> None:
    confusion = np.array([[8, 2], [0, 10]])
    table = confusion_table(confusion, [1.0, 10 / 12], [0.8, 1.0], ["cat", "dog"], title="matrix")
    output = _plain(table)
    assert "0 cat" in output and "1 dog" in output
    assert "recall" in output and "precision" in output
    assert "80.0" in output and "83.3" in output
    assert "·" in output  # a zero off the diagonal is drawn as a dot


def test_confusion_diagonal_is_highlighted() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=True, color_system="standard")
    console.print(confusion_table(np.array([[3, 1], [0, 4]]), [1.0, 0.8], [0.75, 1.0], ["0", "1"]))
    output = buffer.getvalue()
    assert "\x1b[1;7;32m" in output  # bold reverse green: the correct predictions


def test_no_color_in_a_terminal_switches_to_the_character_ramp(monkeypatch: pytest.MonkeyPatch) -> None:
    from netkit.cli.render import uses_colour

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert uses_colour(Console(file=io.StringIO(), force_terminal=True, color_system="truecolor"))
    monkeypatch.setenv("NO_COLOR", "1")
    # rich keeps its colour system under NO_COLOR and only strips colours at the end: blocks would be blank.
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor")
    assert console.color_system is not None and not uses_colour(console)
