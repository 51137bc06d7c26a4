"""Rich renderables for arrays: digit images, weight heat maps, probability bars, the confusion matrix.

Images use the upper half block ``▀``: its foreground colour paints the upper pixel and its background
the lower one, so a 28x28 image takes 28 columns and 14 rows and its pixels come out square. Consoles
without colour (pipes, ``NO_COLOR``) get the same footprint in black and white: ``▀``, ``▄``, ``█`` or a
space for where the ink is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich import box
from rich.color import Color
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from netkit.pictures.colours import diverging_rgb, normalise, robust_limit

UPPER_HALF = "▀"
MONO_BLOCKS = " ▄▀█"  # indexed by 2 * upper + lower
INK_LEVEL = 0.35
EIGHTHS = " ▏▎▍▌▋▊▉█"
RGB = tuple[int, int, int]


def uses_colour(console: Console) -> bool:
    """Whether colours reach the reader: a colour terminal without ``NO_COLOR`` (which rich keeps as a flag)."""
    return console.color_system is not None and not console.no_color


def _half_blocks(colours: np.ndarray[Any, Any]) -> Text:
    """``colours`` is (rows, columns, 3) uint8; two pixel rows become one line of text."""
    text = Text(no_wrap=True, overflow="crop")
    rows = colours.shape[0]
    for top in range(0, rows, 2):
        for column in range(colours.shape[1]):
            upper = Color.from_rgb(*(int(c) for c in colours[top, column]))
            lower = Color.from_rgb(*(int(c) for c in colours[top + 1, column])) if top + 1 < rows else None
            text.append(UPPER_HALF, Style(color=upper, bgcolor=lower))
        if top + 2 < rows:
            text.append("\n")
    return text


def _upscale(grid: np.ndarray[Any, Any], scale: int) -> np.ndarray[Any, Any]:
    return np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1) if scale > 1 else grid


def digit_image(pixels: np.ndarray[Any, Any], colour: bool = True, scale: int = 1) -> Text:
    """A grayscale image with values in [0, 1] (1 = ink, drawn white on black, as MNIST stores it)."""
    grid = np.clip(np.nan_to_num(np.asarray(pixels, dtype=np.float64)), 0.0, 1.0)
    if not colour:
        return _shaded(grid, scale)
    grey = np.round(_upscale(grid, scale) * 255).astype(np.uint8)
    return _half_blocks(np.repeat(grey[:, :, None], 3, axis=2))


def _shaded(grid: np.ndarray[Any, Any], scale: int) -> Text:
    # Without colour, half blocks still give two pixel rows per line: ink above INK_LEVEL or not.
    ink = _upscale(grid, scale) >= INK_LEVEL
    if ink.shape[0] % 2:
        ink = np.vstack([ink, np.zeros((1, ink.shape[1]), dtype=bool)])
    codes = ink[0::2].astype(np.int64) * 2 + ink[1::2]
    return Text("\n".join("".join(MONO_BLOCKS[code] for code in row) for row in codes), no_wrap=True)


def diverging_colour(value: float) -> RGB:
    """The shared diverging scale at ``value`` in [-1, 1]: blue, near-white, orange; beyond is clipped."""
    red, green, blue = (int(channel) for channel in diverging_rgb(np.array(value)))
    return red, green, blue


# Without colour: the sign and size of each value as a character pair, strongest at the ends.
RAMP = "=- +#"
RAMP_EDGES = (-0.5, -0.1, 0.1, 0.5)


def heat_map(values: np.ndarray[Any, Any], colour: bool = True, scale: int = 1) -> tuple[Text, float]:
    """Signed values on the shared diverging scale, scaled to the 99th percentile of ``|values|``.

    Returns the picture and that scale (values beyond it take the end colours). Without colour every
    value is a character pair from :data:`RAMP`, so pipes and ``NO_COLOR`` terminals keep the information.
    """
    grid = np.nan_to_num(np.asarray(values, dtype=np.float64))
    limit = robust_limit(grid)
    normalised = normalise(grid, limit)
    if not colour:
        marks = np.array(list(RAMP))
        index = np.digitize(normalised, RAMP_EDGES)
        lines = ["".join(mark * 2 * scale for mark in marks[row]) for row in index for _ in range(scale)]
        return Text("\n".join(lines), no_wrap=True, overflow="crop"), limit
    return _half_blocks(_upscale(diverging_rgb(normalised), scale)), limit


def heat_legend(limit: float, colour: bool = True, steps: int = 21) -> Text:
    """The scale of :func:`heat_map`, stated: a blue-to-orange bar from ``-limit`` to ``+limit``, or the marks."""
    basis = f"scale ±{limit:.3g} = the 99th percentile of |w| (beyond it clipped)"
    if not colour:
        return Text(
            f"== below -50%  -- below -10%  (blank) within ±10%  ++ above 10%  ## above 50% of {limit:.3g}\n{basis}"
        )
    text = Text(no_wrap=True)
    text.append(f"{-limit:+.3g} ", style="bold")
    for step in range(steps):
        text.append("█", Style(color=Color.from_rgb(*diverging_colour(2 * step / (steps - 1) - 1))))
    text.append(f" {limit:+.3g}", style="bold")
    text.append(f"  blue negative · orange positive\n{basis}", style="bright_black")
    return text


def bar(fraction: float, width: int) -> str:
    """A horizontal bar ``width`` cells long at 1.0, with eighth-cell resolution."""
    fraction = min(max(fraction, 0.0), 1.0) if math.isfinite(fraction) else 0.0
    eighths = round(fraction * width * 8)
    full, rest = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[rest] if rest else "")).ljust(width)


def probability_table(probabilities: Sequence[float], class_names: Sequence[str], width: int = 24) -> Table:
    """One row per class: name, percentage and a bar; the most likely class in bold green."""
    best = int(np.argmax(probabilities)) if len(probabilities) else -1
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column(justify="right")
    table.add_column(justify="right")
    table.add_column()
    for index, (name, probability) in enumerate(zip(class_names, probabilities, strict=False)):
        style = "bold green" if index == best else ""
        bar_style = "green" if index == best else "bright_black"
        table.add_row(
            Text(name, style=style),
            Text(f"{probability:7.2%}", style=style),
            Text(bar(probability, width), style=bar_style),
        )
    return table


def confusion_table(
    confusion: np.ndarray[Any, Any],
    precision: Sequence[float],
    recall: Sequence[float],
    class_names: Sequence[str],
    title: str | None = None,
) -> Table:
    """Rows are true classes, columns predicted ones; the diagonal (correct) is highlighted.

    Each row ends with its recall, and a last row gives each column's precision (both in %). Off-diagonal
    cells holding at least 1% of their row stand out in red: those are the mistakes worth a look. Spacing
    comes from column widths rather than borders, so ten classes fit in 80 columns.
    """
    classes = confusion.shape[0]
    table = Table(
        title=title, box=box.SIMPLE_HEAD, padding=0, show_edge=False, header_style="bold", title_justify="left"
    )
    table.add_column("true", justify="left", style="bold", no_wrap=True)
    for index in range(classes):
        table.add_column(str(index), justify="right", min_width=5)
    table.add_column("recall", justify="right", min_width=7)
    for true in range(classes):
        total = int(confusion[true].sum())
        name = class_names[true] if true < len(class_names) else str(true)
        cells: list[Text | str] = [str(true) if name == str(true) else f"{true} {name}"]
        for predicted in range(classes):
            count = int(confusion[true, predicted])
            if predicted == true:
                cells.append(Text(str(count), style="bold green reverse"))
            elif count == 0:
                cells.append(Text("·", style="bright_black"))
            else:
                cells.append(Text(str(count), style="red" if count >= 0.01 * max(total, 1) else ""))
        cells.append(_percent(recall[true]))
        table.add_row(*cells)
    table.add_section()
    table.add_row("precision", *(_percent(value) for value in precision), "", style="italic")
    return table


def _percent(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{100 * value:.1f}"
