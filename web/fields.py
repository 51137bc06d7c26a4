"""Fields of the playground's JSON requests, checked into values or refused with a 400 that names them."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ApiError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def checked_name(value: Any, what: str) -> str:
    """A file or folder name that stays inside DIR: no ``/``, no ``..``, never absolute."""
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise ApiError(
            400, f'"{what}" must be 1-64 letters, digits, "-" or "_" (no "/", ".." or absolute path), not {value!r}'
        )
    return value


def inside(root: Path, *parts: str) -> Path:
    """``root/parts...``, refused if it resolves outside ``root`` (a symlink placed in DIR, say)."""
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        raise ApiError(400, f"{'/'.join(parts)} would be outside the playground's folder")
    return path


def whole(request: Mapping[str, Any], name: str, low: int, high: int, default: int | None = None) -> int:
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f'"{name}" must be a whole number, not {value!r}')
    if not low <= value <= high:
        raise ApiError(400, f'"{name}" must be {low}..{high}, not {value}')
    return value


def rate(request: Mapping[str, Any], name: str = "learning_rate") -> float | None:
    value = request.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApiError(400, f'"{name}" must be a number, not {value!r}')
    if not 0 < value <= 10:
        raise ApiError(400, f'"{name}" must be above 0 and at most 10, not {value}')
    return float(value)


def text(request: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = request.get(name, default)
    if value is None or value == "":
        return default
    if not isinstance(value, str) or len(value) > 200:
        raise ApiError(400, f'"{name}" must be a short text, not {value!r}')
    return value
