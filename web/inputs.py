"""A ``POST /api/predict`` body to the row the network sees, through the one preprocessing ``predict`` uses.

``{"image": "<data URL>"}`` is decoded with Pillow and passed to :func:`netkit.data.images.to_mnist`;
``{"pixels": <28x28 list of 0..1>}`` goes through the same function, or straight to the network with
``"preprocess": false`` (then it is exactly the row ``netkit evaluate`` would score).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
from typing import Any

import numpy as np
from PIL import Image

from netkit.data.images import SIDE, to_mnist
from netkit.types import FloatArray

from .errors import ApiError

MAX_BODY_BYTES = 1_000_000
MAX_IMAGE_PIXELS = 4_000_000  # a small PNG can claim a huge canvas; refuse before decoding it
_DATA_URL_PREFIX = "data:image/"


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    except RecursionError:  # e.g. [[[[...]]]] thousands deep: no body the page sends nests past a few levels
        raise ApiError(400, "the body's JSON is nested too deeply") from None
    if not isinstance(value, dict):
        raise ApiError(400, f"the body must be a JSON object, not {type(value).__name__}")
    return value


def decode_image(data_url: Any) -> Image.Image:
    if not isinstance(data_url, str) or not data_url.startswith(_DATA_URL_PREFIX) or ";base64," not in data_url:
        raise ApiError(400, '"image" must be a data URL such as "data:image/png;base64,..."')
    try:
        payload = base64.b64decode(data_url.split(";base64,", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, '"image" holds invalid base64') from None
    try:
        image = Image.open(io.BytesIO(payload))
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ApiError(413, f"the image is {width}x{height}; at most {MAX_IMAGE_PIXELS:,} pixels are accepted")
        image.load()
    except ApiError:
        raise
    except Exception as exc:  # Pillow raises many types for a bad file
        raise ApiError(400, f'"image" is not an image Pillow can read: {exc}') from None
    return image


def pixel_grid(value: Any) -> FloatArray:
    """A 28x28 list of numbers in [0, 1] as a float32 array, or a 400 naming what is wrong."""
    if not isinstance(value, list) or len(value) != SIDE:
        raise ApiError(400, f'"pixels" must be a list of {SIDE} rows of {SIDE} numbers')
    for index, row in enumerate(value):
        if not isinstance(row, list) or len(row) != SIDE:
            raise ApiError(400, f'"pixels" row {index} must be a list of {SIDE} numbers')
        for number in row:
            if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
                raise ApiError(400, f'"pixels" row {index} holds {number!r}, not a number')
            if not 0.0 <= number <= 1.0:
                raise ApiError(400, f'"pixels" row {index} holds {number!r}, outside 0..1')
    return np.asarray(value, dtype=np.float32)


def network_input(body: dict[str, Any]) -> tuple[FloatArray, FloatArray]:
    """(the row the network sees, the plain 28x28 resize without crop-and-centre) for a predict body."""
    preprocess = body.get("preprocess", True)
    if not isinstance(preprocess, bool):
        raise ApiError(400, '"preprocess" must be true or false')
    if ("image" in body) == ("pixels" in body):
        raise ApiError(400, 'send exactly one of "image" (a data URL) or "pixels" (28x28 numbers in 0..1)')
    if "pixels" in body:
        grid = pixel_grid(body["pixels"])
        plain = grid.reshape(SIDE * SIDE)
        if not preprocess:
            return plain, plain
        return _preprocessed(Image.fromarray(grid, mode="F"), True), plain
    image = decode_image(body["image"])
    downsample = _preprocessed(image, False)
    return (_preprocessed(image, True) if preprocess else downsample), downsample


def _preprocessed(image: Image.Image, center: bool) -> FloatArray:
    try:
        return to_mnist(image, center=center)
    except (OSError, ValueError) as exc:  # e.g. a colour mode Pillow cannot convert
        raise ApiError(400, f"cannot preprocess the image (mode {image.mode}): {exc}") from None
