"""The options of ``/api/network`` (how many nodes and links to draw, and what a link's colour measures),
read from a GET query or from a POST body alike, with a 400 naming a bad one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netkit.model.diagram import LINK_MEASURES, LinkMeasure

from .errors import ApiError

DEFAULT_NODES, MIN_NODES, MAX_NODES = 16, 10, 64
DEFAULT_LINKS, MAX_LINKS = 120, 5000
_LIMITS = {"nodes": (DEFAULT_NODES, MIN_NODES, MAX_NODES), "links": (DEFAULT_LINKS, 0, MAX_LINKS)}


def _whole(source: Mapping[str, Any], name: str) -> int:
    default, low, high = _LIMITS[name]
    value = source.get(name, default)
    if isinstance(value, list) and value:  # a query's values: the last one counts
        text = str(value[-1])
        try:
            value = int(text, 10)
        except ValueError:
            raise ApiError(400, f"{name} must be a whole number, not {text!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f'"{name}" must be a whole number, not {value!r}')
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be {low}..{high}, not {value}")
    return value


def diagram_options(source: Mapping[str, Any]) -> tuple[int, int, LinkMeasure]:
    """(nodes per layer, links per layer, link measure) from a query (lists of strings) or a JSON body."""
    measure = source.get("measure", "contribution")
    if isinstance(measure, list) and measure:
        measure = measure[-1]
    if not isinstance(measure, str) or measure not in LINK_MEASURES:
        raise ApiError(400, f"measure must be {' or '.join(LINK_MEASURES)}, not {measure!r}")
    chosen: LinkMeasure = measure
    return _whole(source, "nodes"), _whole(source, "links"), chosen
