"""Pictures made of tiles: first-layer weights, a gallery of digits with captions, samples per class.

Every picture has a title saying what it shows; weight pictures carry a colour bar stating their scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from PIL import Image, ImageDraw

from netkit.model.layer import Layer
from netkit.pictures.canvas import font, text_width
from netkit.pictures.colours import diverging_rgb, normalise, robust_limit

BACKGROUND = (255, 255, 255)
TEXT = (34, 34, 34)
NOTE = (90, 90, 90)
GAP = 6
MARGIN = 16
TITLE_SIZE, NOTE_SIZE, CAPTION_SIZE = 16, 12, 11
MAX_COLUMNS = 16


def _columns_for(count: int, most: int = MAX_COLUMNS) -> int:
    """About twice as many columns as rows: pictures wider than tall suit pages and screens."""
    return max(1, min(most, count, math.ceil(2 * math.sqrt(count))))


def grey_tile(pixels: np.ndarray[Any, Any], shape: tuple[int, int], scale: int) -> Image.Image:
    """Ink (1) drawn dark on light paper (0), the way people write digits."""
    grid = np.clip(np.nan_to_num(np.asarray(pixels, dtype=np.float64).reshape(shape)), 0.0, 1.0)
    grey = np.round(255 * (1.0 - grid)).astype(np.uint8)
    return (
        Image.fromarray(grey, mode="L")
        .convert("RGB")
        .resize((shape[1] * scale, shape[0] * scale), Image.Resampling.NEAREST)
    )


def signed_tile(values: np.ndarray[Any, Any], limit: float, scale: int) -> Image.Image:
    colours = diverging_rgb(normalise(values, limit))
    image = Image.fromarray(colours, mode="RGB")
    return image.resize((colours.shape[1] * scale, colours.shape[0] * scale), Image.Resampling.NEAREST)


def header(draw: ImageDraw.ImageDraw, title: str, lines: Sequence[str]) -> int:
    """Draws the title and note lines at the top; returns the y where the content starts."""
    draw.text((MARGIN, MARGIN), title, fill=TEXT, font=font(TITLE_SIZE))
    y = MARGIN + TITLE_SIZE + 8
    for line in lines:
        draw.text((MARGIN, y), line, fill=NOTE, font=font(NOTE_SIZE))
        y += NOTE_SIZE + 5
    return y + 6


def header_height(lines: int) -> int:
    return MARGIN + TITLE_SIZE + 8 + lines * (NOTE_SIZE + 5) + 6


def colour_bar(draw: ImageDraw.ImageDraw, x: int, y: int, width: int, limit: float) -> int:
    """The diverging scale from ``-limit`` to ``+limit`` with its ends and middle labelled; returns its height."""
    steps = np.linspace(-1.0, 1.0, width)
    colours = diverging_rgb(steps)
    for offset, colour in enumerate(colours.tolist()):
        draw.line((x + offset, y, x + offset, y + 10), fill=tuple(colour))
    draw.rectangle((x - 1, y - 1, x + width, y + 11), outline=(170, 170, 170))
    labels = ((x, f"{-limit:+.3g}", "la"), (x + width / 2, "0", "ma"), (x + width, f"{limit:+.3g}", "ra"))
    for position, text, anchor in labels:
        draw.text((position, y + 14), text, fill=NOTE, font=font(CAPTION_SIZE), anchor=anchor)
    return 14 + CAPTION_SIZE + 4


@attrs.frozen
class WeightLayer:
    """A layer's weight matrix (inputs, units), what to call it, and the shape each unit's inputs form as an
    image, when the layer says (a convolution's kernel; otherwise the picture assumes the input image)."""

    name: str
    weight: np.ndarray[Any, Any]
    tile_shape: tuple[int, int] | None = None


def weight_layers(layers: Sequence[Layer]) -> list[WeightLayer]:
    """Every layer's first declared weight as an (inputs, units) matrix, named for a legend; layers without
    weights are skipped. A convolution's (kh, kw, channels, filters) kernel becomes one kh x (channels*kw)
    tile per filter: its channels side by side."""
    found = []
    for index, layer in enumerate(layers):
        if layer.weights:
            weights = np.asarray(layer.parameters[layer.weights[0]])
            if weights.ndim == 4:
                kh, kw, channels, filters = weights.shape
                weight = weights.transpose(0, 2, 1, 3).reshape(-1, filters)  # rows in (u, c, v) order
                name = f"layer {index + 1} ({kh}x{kw}x{channels} kernels, {filters} filters)"
                found.append(WeightLayer(name, weight, (kh, channels * kw)))
                continue
            weight = weights.reshape(-1, weights.shape[-1])  # fan-in by units, whatever the layer's rank
            inputs, units = weight.shape
            found.append(WeightLayer(f"layer {index + 1} ({inputs} inputs, {units} units)", weight))
    return found


def square_shape(inputs: int) -> tuple[int, int] | None:
    """The square image ``inputs`` values make (28x28 for 784), or ``None``."""
    side = math.isqrt(inputs)
    return (side, side) if side * side == inputs else None


def weight_picture(layers: Sequence[WeightLayer], title: str, image_shape: tuple[int, int] = (28, 28)) -> Image.Image:
    """The first layer as one tile per unit (its input weights as an image), later layers as matrices.

    Each layer is scaled to the 99th percentile of its own ``|w|`` (stated under it), blue negative,
    orange positive.
    """
    first = layers[0]
    inputs, units = first.weight.shape
    if inputs != image_shape[0] * image_shape[1]:
        raise ValueError(f"the first layer takes {inputs} inputs, not a {image_shape[0]}x{image_shape[1]} image")
    # Small tiles (a 5x5 kernel) are drawn larger, so that every weight stays visible.
    scale = max(3 if units <= 32 else 2, 60 // max(image_shape))
    tile_w, tile_h = image_shape[1] * scale, image_shape[0] * scale
    columns = _columns_for(units)
    rows = math.ceil(units / columns)
    first_limit = robust_limit(first.weight)
    later = [(layer, robust_limit(layer.weight)) for layer in layers[1:]]
    cell = [max(2, min(12, 160 // max(layer.weight.shape))) for layer, _ in later]
    grid_w = columns * (tile_w + GAP) - GAP
    later_w = sum(max(layer.weight.shape[1] * size, 90) + 3 * GAP for (layer, _), size in zip(later, cell, strict=True))
    notes = [
        f"{first.name}: each tile is one unit's {inputs} input weights as a {image_shape[0]}x{image_shape[1]} image",
        "blue: negative, orange: positive; each layer scaled to the 99th percentile of its |w| (beyond it clipped)",
    ]
    header_w = max([text_width(title, TITLE_SIZE), *(text_width(note, NOTE_SIZE) for note in notes)])
    width = max(grid_w, later_w, math.ceil(header_w), 480) + 2 * MARGIN
    label_h = CAPTION_SIZE + 3
    bar_h = 14 + CAPTION_SIZE + 4 + NOTE_SIZE + 16
    caption_h = 2 * (CAPTION_SIZE + 3) + 8
    later_h = max((layer.weight.shape[0] * size for (layer, _), size in zip(later, cell, strict=True)), default=0)
    top = header_height(len(notes))
    height = top + rows * (tile_h + label_h + GAP) + bar_h
    if later:
        height += NOTE_SIZE + 8 + later_h + caption_h
    image = Image.new("RGB", (width, height + MARGIN), BACKGROUND)
    draw = ImageDraw.Draw(image)
    y = header(draw, title, notes)
    for unit in range(units):
        row, column = divmod(unit, columns)
        x0, y0 = MARGIN + column * (tile_w + GAP), y + row * (tile_h + label_h + GAP)
        tile = first.weight[:, unit].reshape(image_shape)
        image.paste(signed_tile(tile, first_limit, scale), (x0, y0 + label_h))
        draw.text((x0, y0), f"unit {unit}", fill=NOTE, font=font(CAPTION_SIZE))
    y += rows * (tile_h + label_h + GAP)
    y += _scale_note(draw, y, first.name, first_limit)
    if later:
        draw.text((MARGIN, y), "later layers: rows are inputs, columns are units", fill=TEXT, font=font(NOTE_SIZE))
        y += NOTE_SIZE + 8
        x = MARGIN
        for (layer, limit), size in zip(later, cell, strict=True):
            image.paste(signed_tile(layer.weight, limit, size), (x, y))
            below = y + layer.weight.shape[0] * size + 4
            inputs, units = layer.weight.shape
            for line, text in enumerate((f"layer {layer.name.split()[1]}: {inputs}x{units}", f"scale ±{limit:.3g}")):
                draw.text((x, below + line * (CAPTION_SIZE + 3)), text, fill=NOTE, font=font(CAPTION_SIZE))
            x += max(units * size, 90) + 3 * GAP
    return image


def _scale_note(draw: ImageDraw.ImageDraw, y: int, name: str, limit: float) -> int:
    height = colour_bar(draw, MARGIN, y + 4, 220, limit)
    note = f"{name}: scale ±{limit:.3g} = the 99th percentile of its |w|"
    draw.text((MARGIN, y + 4 + height), note, fill=NOTE, font=font(NOTE_SIZE))
    return height + NOTE_SIZE + 12


def gallery(
    images: np.ndarray[Any, Any],
    captions: Sequence[Sequence[str]],
    title: str,
    notes: Sequence[str] = (),
    image_shape: tuple[int, int] = (28, 28),
    scale: int = 3,
    columns: int = 10,
) -> Image.Image:
    """Digits as tiles in rows of ``columns``, each with its caption lines below."""
    count = len(images)
    caption_lines = max((len(lines) for lines in captions), default=0)
    tile_w, tile_h = image_shape[1] * scale, image_shape[0] * scale
    widest = max((text_width(line, CAPTION_SIZE) for lines in captions for line in lines), default=0)
    cell_w = max(tile_w, math.ceil(widest)) + GAP
    cell_h = tile_h + caption_lines * (CAPTION_SIZE + 3) + GAP + 4
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns) if count else 0
    top = header_height(len(notes))
    header_w = max([text_width(title, TITLE_SIZE), *(text_width(n, NOTE_SIZE) for n in notes)])
    width = max(columns * cell_w - GAP, math.ceil(header_w)) + 2 * MARGIN
    image = Image.new("RGB", (width, top + rows * cell_h + MARGIN), BACKGROUND)
    draw = ImageDraw.Draw(image)
    y = header(draw, title, notes)
    for index in range(count):
        row, column = divmod(index, columns)
        x0, y0 = MARGIN + column * cell_w, y + row * cell_h
        image.paste(grey_tile(images[index], image_shape, scale), (x0, y0))
        draw.rectangle((x0, y0, x0 + tile_w - 1, y0 + tile_h - 1), outline=(200, 200, 200))
        for line_index, line in enumerate(captions[index]):
            position = (x0, y0 + tile_h + 3 + line_index * (CAPTION_SIZE + 3))
            draw.text(position, line, fill=TEXT if line_index == 0 else NOTE, font=font(CAPTION_SIZE))
    return image


def class_rows(
    images: np.ndarray[Any, Any],
    labels: np.ndarray[Any, Any],
    class_names: Sequence[str],
    per_class: int,
    title: str,
    image_shape: tuple[int, int] = (28, 28),
    scale: int = 2,
) -> Image.Image:
    """One row per class: its name, then its first ``per_class`` images."""
    name_w = math.ceil(max(text_width(name, NOTE_SIZE) for name in class_names)) + 10
    tile_w, tile_h = image_shape[1] * scale, image_shape[0] * scale
    notes = [f"one row per class, {per_class} images each, in the order the dataset stores them; ink dark on light"]
    top = header_height(len(notes))
    width = max(name_w + per_class * (tile_w + 2), math.ceil(text_width(title, TITLE_SIZE))) + 2 * MARGIN
    image = Image.new("RGB", (width, top + len(class_names) * (tile_h + 2) + MARGIN), BACKGROUND)
    draw = ImageDraw.Draw(image)
    y = header(draw, title, notes)
    for class_index, name in enumerate(class_names):
        row_y = y + class_index * (tile_h + 2)
        draw.text((MARGIN, row_y + tile_h / 2), name, fill=TEXT, font=font(NOTE_SIZE), anchor="lm")
        chosen = np.flatnonzero(labels == class_index)[:per_class]
        for slot, index in enumerate(chosen.tolist()):
            image.paste(grey_tile(images[index], image_shape, scale), (MARGIN + name_w + slot * (tile_w + 2), row_y))
    return image
