"""A small vector drawing: lines, dots, boxes and labels, rendered to PNG (Pillow) or to SVG (text).

A chart is laid out once in pixel coordinates and written in either format, so the PNG and the SVG of a
plot show the same thing. Dashed lines are cut into dash segments here because Pillow draws none.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import attrs
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from netkit.io.atomic import atomic_write
from netkit.pictures.colours import diverging_rgb

Point = tuple[float, float]
FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif"
# Pillow anchors: first letter horizontal (left, middle, right), second vertical (ascender top, middle,
# baseline); SVG says the same with text-anchor and dominant-baseline.
SVG_ANCHOR = {"l": "start", "m": "middle", "r": "end"}
SVG_BASELINE = {"a": "hanging", "m": "central", "s": "alphabetic"}


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` pixels (scalable where Pillow has FreeType)."""
    return ImageFont.load_default(size=size)


def text_width(text: str, size: int) -> float:
    return float(font(size).getlength(text))


@attrs.frozen
class Line:
    points: tuple[Point, ...]
    colour: str
    width: float = 1.0
    dash: tuple[float, float] | None = None  # drawn length, gap length


@attrs.frozen
class Dot:
    centre: Point
    radius: float
    colour: str
    square: bool = False


@attrs.frozen
class Box:
    corner: Point
    size: Point
    fill: str | None = None
    outline: str | None = None


@attrs.frozen
class Label:
    position: Point
    text: str
    size: int = 13
    colour: str = "#222222"
    anchor: str = "la"
    vertical: bool = False  # read bottom to top; ``position`` is the centre


Item = Line | Dot | Box | Label


@attrs.define
class Figure:
    width: int
    height: int
    background: str = "#FFFFFF"
    items: list[Item] = attrs.field(factory=list)

    def add(self, item: Item) -> None:
        self.items.append(item)

    # -- PNG ------------------------------------------------------------------------------------------

    def to_image(self) -> Image.Image:
        image = Image.new("RGB", (self.width, self.height), self.background)
        draw = ImageDraw.Draw(image)
        for item in self.items:
            if isinstance(item, Line):
                for segment in dash_segments(item.points, item.dash):
                    draw.line(segment, fill=item.colour, width=max(round(item.width), 1), joint="curve")
            elif isinstance(item, Dot):
                (x, y), r = item.centre, item.radius
                shape = draw.rectangle if item.square else draw.ellipse
                shape((x - r, y - r, x + r, y + r), fill=item.colour)
            elif isinstance(item, Box):
                (x, y), (w, h) = item.corner, item.size
                draw.rectangle((x, y, x + w, y + h), fill=item.fill, outline=item.outline)
            elif item.vertical:
                _paste_vertical(image, item)
            else:
                draw.text(item.position, item.text, fill=item.colour, font=font(item.size), anchor=item.anchor)
        return image

    # -- SVG ------------------------------------------------------------------------------------------

    def to_svg(self) -> str:
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}">',
            f'<rect width="{self.width}" height="{self.height}" fill="{self.background}"/>',
        ]
        for item in self.items:
            parts.append(_svg_item(item))
        parts.append("</svg>")
        return "\n".join(parts) + "\n"

    def save(self, path: Path) -> None:
        """PNG or SVG by the file's extension, written atomically."""
        if path.suffix.lower() == ".svg":
            document = self.to_svg().encode("utf-8")

            def write(temporary: Path) -> None:
                temporary.write_bytes(document)

            atomic_write(path, write)
        else:
            save_png(self.to_image(), path)


@functools.cache
def _scale_palette() -> Image.Image:
    scale = diverging_rgb(np.linspace(-1.0, 1.0, 239))  # -1, 0 and +1 exactly among them
    greys = np.repeat(np.linspace(0, 255, 17).round().astype(np.uint8)[:, None], 3, axis=1)
    palette = Image.new("P", (1, 1))
    palette.putpalette(np.concatenate([scale, greys]).astype(np.uint8).tobytes())
    return palette


def _paste_vertical(image: Image.Image, label: Label) -> None:
    width, height = round(text_width(label.text, label.size)) + 4, label.size + 8
    strip = Image.new("L", (width, height), 0)
    ImageDraw.Draw(strip).text((width / 2, height / 2), label.text, fill=255, font=font(label.size), anchor="mm")
    turned = strip.rotate(90, expand=True)
    x, y = label.position
    corner = (round(x - turned.width / 2), round(y - turned.height / 2))
    image.paste(Image.new("RGB", turned.size, label.colour), corner, turned)


def save_png(image: Image.Image, path: Path, palette: bool = False) -> None:
    """``image`` as an optimised PNG at ``path``, written atomically.

    ``palette`` stores it with 256 colours, the diverging scale's and greys (each pixel takes the nearest,
    undithered), which halves the file and keeps the scale's stops exact.
    """
    if palette:
        image = image.quantize(palette=_scale_palette(), dither=Image.Dither.NONE)
    atomic_write(path, lambda temporary: image.save(temporary, format="PNG", optimize=True))


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg_item(item: Item) -> str:
    if isinstance(item, Line):
        points = " ".join(f"{_number(x)},{_number(y)}" for x, y in item.points)
        dash = f' stroke-dasharray="{_number(item.dash[0])} {_number(item.dash[1])}"' if item.dash else ""
        return (
            f'<polyline points="{points}" fill="none" stroke="{item.colour}" stroke-width="{_number(item.width)}"'
            f' stroke-linejoin="round"{dash}/>'
        )
    if isinstance(item, Dot):
        (x, y), r = item.centre, item.radius
        if item.square:
            return (
                f'<rect x="{_number(x - r)}" y="{_number(y - r)}" width="{_number(2 * r)}" '
                f'height="{_number(2 * r)}" fill="{item.colour}"/>'
            )
        return f'<circle cx="{_number(x)}" cy="{_number(y)}" r="{_number(r)}" fill="{item.colour}"/>'
    if isinstance(item, Box):
        (x, y), (w, h) = item.corner, item.size
        fill = item.fill or "none"
        stroke = f' stroke="{item.outline}"' if item.outline else ""
        size = f'width="{_number(w)}" height="{_number(h)}"'
        return f'<rect x="{_number(x)}" y="{_number(y)}" {size} fill="{fill}"{stroke}/>'
    x, y = item.position
    anchor, baseline = ("m", "m") if item.vertical else (item.anchor[0], item.anchor[1])
    turn = f' transform="rotate(-90 {_number(x)} {_number(y)})"' if item.vertical else ""
    return (
        f'<text x="{_number(x)}" y="{_number(y)}" font-family="{FONT_FAMILY}" font-size="{item.size}" '
        f'fill="{item.colour}" text-anchor="{SVG_ANCHOR[anchor]}" '
        f'dominant-baseline="{SVG_BASELINE[baseline]}"{turn}>{escape(item.text)}</text>'
    )


def dash_segments(points: Sequence[Point], dash: tuple[float, float] | None) -> list[list[Point]]:
    """The polyline ``points`` as the pieces to draw: itself when solid, else its dashes."""
    if dash is None or len(points) < 2:
        return [list(points)]
    drawn, gap = dash
    pieces: list[list[Point]] = []
    current: list[Point] = [points[0]]
    on, left = True, drawn  # drawing or skipping, and how much of that is left
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.hypot(x1 - x0, y1 - y0)
        done = 0.0
        while length - done > left:
            done += left
            t = done / length
            point = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
            if on:
                current.append(point)
                pieces.append(current)
            current = [point]
            on = not on
            left = drawn if on else gap
        left -= length - done
        if on:
            current.append((x1, y1))
        else:
            current = [(x1, y1)]
    if on and len(current) > 1:
        pieces.append(current)
    return pieces
