"""``--json`` output that stays short for long histories: nested objects indented, flat arrays on one line.

A list or object holding only numbers, strings, booleans and nulls is written on one line (the 16,880 losses
of a long run become one line, not 16,880; each epoch record is one line); anything holding a list or an
object is indented. Standard JSON either way: ``json.loads`` reads it back unchanged.
"""

from __future__ import annotations

import json
import math
from typing import Any

INDENT = "  "


def _is_flat(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return not any(isinstance(item, (dict, list, tuple)) for item in items)


def _scalar(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "null"  # JSON has no NaN or infinity
    return json.dumps(value, ensure_ascii=False)


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(key))}: {_scalar(item)}" for key, item in value.items()) + "}"
    return "[" + ", ".join(_scalar(item) for item in value) + "]"


def _write(value: Any, depth: int) -> str:
    if not isinstance(value, (dict, list, tuple)):
        return _scalar(value)
    if not value or _is_flat(value):
        return _compact(value)
    inner = INDENT * (depth + 1)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(str(key))}: {_write(item, depth + 1)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + INDENT * depth + "}"
    items = [inner + _write(item, depth + 1) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + INDENT * depth + "]"


def dumps(document: Any) -> str:
    """``document`` as compact, readable JSON (see the module docstring)."""
    return _write(document, 0)
