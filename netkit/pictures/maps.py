"""Feature maps: what each convolution and pooling layer makes of one image, one row of tiles per layer.

The numbers come from :meth:`netkit.model.network.Network.activations`; this module only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from PIL import Image, ImageDraw

from netkit.model.layer import Flatten
from netkit.model.network import Network
from netkit.pictures.canvas import font, text_width
from netkit.pictures.colours import robust_limit
from netkit.pictures.grids import (
    BACKGROUND,
    CAPTION_SIZE,
    GAP,
    MARGIN,
    NOTE,
    NOTE_SIZE,
    TEXT,
    TITLE_SIZE,
    colour_bar,
    grey_tile,
    header,
    header_height,
    signed_tile,
)

TILE = 84  # the size a map is drawn at, whatever its own size (28x28 maps at 3x, 5x5 at 16x)
MOST_COLUMNS = 12


@attrs.frozen
class MapRow:
    """One layer's feature maps for one image: (channels, height, width), and what to call the layer."""

    name: str
    maps: np.ndarray[Any, Any]


def feature_map_rows(model: Network, x: np.ndarray[Any, Any]) -> list[MapRow]:
    """Every layer of ``model`` whose output for the one sample ``x`` is a stack of maps (channels, height,
    width) — its convolutions and poolings — in order. Empty for a network of dense layers only."""
    outputs = model.activations(x)
    rows = []
    for index, (layer, output) in enumerate(zip(model.layers, outputs, strict=True)):
        if output.ndim == 4 and not isinstance(layer, Flatten):
            rows.append(MapRow(f"layer {index + 1}: {layer.describe()}", output[0]))
    return rows


def feature_map_picture(image: np.ndarray[Any, Any], rows: Sequence[MapRow], title: str) -> Image.Image:
    """The input ``image`` (height, width; ink 1 on paper 0), then one row of tiles per layer: each map on a
    blue-orange scale set by the 99th percentile of that layer's |values| (stated under its row)."""
    if not rows:
        raise ValueError("no feature maps to draw")
    columns = min(MOST_COLUMNS, max(len(row.maps) for row in rows))
    notes = [
        "each tile is one feature map: orange where its kernel's pattern appears in the picture, blue for its opposite",
        "each layer scaled to the 99th percentile of its |values| (beyond it clipped); white is zero",
    ]
    header_w = max([text_width(title, TITLE_SIZE), *(text_width(note, NOTE_SIZE) for note in notes)])
    width = max(columns * (TILE + GAP) - GAP, math.ceil(header_w), 480) + 2 * MARGIN
    label_h = NOTE_SIZE + 6
    bar_h = 14 + CAPTION_SIZE + 4 + 6
    heights = [label_h + math.ceil(len(row.maps) / columns) * (TILE + GAP) + bar_h for row in rows]
    height = header_height(len(notes)) + label_h + TILE + GAP + sum(heights) + MARGIN
    picture = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    y = header(draw, title, notes)
    draw.text((MARGIN, y), f"input: {image.shape[0]}x{image.shape[1]} pixels", fill=TEXT, font=font(NOTE_SIZE))
    side = max(1, TILE // max(image.shape))
    picture.paste(grey_tile(image, (image.shape[0], image.shape[1]), side), (MARGIN, y + label_h))
    y += label_h + TILE + GAP
    for row in rows:
        channels, map_h, map_w = row.maps.shape
        draw.text((MARGIN, y), f"{row.name}: {channels} maps of {map_h}x{map_w}", fill=TEXT, font=font(NOTE_SIZE))
        y += label_h
        limit = robust_limit(row.maps) or 1.0
        scale = max(1, TILE // max(map_h, map_w))
        for channel in range(channels):
            line, column = divmod(channel, columns)
            place = (MARGIN + column * (TILE + GAP), y + line * (TILE + GAP))
            picture.paste(signed_tile(row.maps[channel], limit, scale), place)
            draw.text((place[0] + 2, place[1] + 1), str(channel), fill=NOTE, font=font(CAPTION_SIZE))
        y += math.ceil(channels / columns) * (TILE + GAP)
        y += colour_bar(draw, MARGIN, y, 160, limit) + 6
    return picture
