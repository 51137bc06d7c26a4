"""The JSON API behind the page: what each ``/api/`` path answers, for a model or a training run.

``App`` holds the current state: a model to draw with (``netkit serve``), or a training run to watch
(``netkit train --web``), whose trained model takes over when the run ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from netkit.pictures.colours import ACTIVATION_HIGH, NEGATIVE, POSITIVE, SCALE_PERCENTILE, ZERO, hex_colour

from .diagram_options import diagram_options
from .errors import ApiError
from .inputs import network_input, parse_json
from .inspection import DEFAULT_EXAMPLES, MAX_EXAMPLES, ModelView
from .live import TrainingProgress

if TYPE_CHECKING:
    from .playground import Playground

Query = Mapping[str, list[str]]
PLAYGROUND = "/api/playground/"

# The shared colour scale, sent to the page so that it paints with the very stops the CLI's pictures use.
COLOUR_SCALE = {
    "negative": hex_colour(NEGATIVE),
    "zero": hex_colour(ZERO),
    "positive": hex_colour(POSITIVE),
    "activation_high": hex_colour(ACTIVATION_HIGH),
    "percentile": SCALE_PERCENTILE,
}


def _integer(query: Query, name: str, default: int | None = None, low: int = 0, high: int | None = None) -> int:
    values = query.get(name)
    if not values:
        if default is None:
            raise ApiError(400, f"the query needs {name}=<whole number>")
        return default
    text = values[-1]
    try:
        value = int(text, 10)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, not {text!r}") from None
    if value < low or (high is not None and value > high):
        upper = f"..{high}" if high is not None else " or more"
        raise ApiError(400, f"{name} must be {low}{upper}, not {value}")
    return value


def _field(request: Mapping[str, Any], name: str) -> int:
    value = request.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f'"{name}" must be a whole number, not {value!r}')
    return value


def _limit(query: Query) -> int:
    return _integer(query, "limit", DEFAULT_EXAMPLES, 1, MAX_EXAMPLES)


class App:
    """The server's state; ``view`` is replaced (never mutated) when a training run hands over its model."""

    def __init__(
        self, view: ModelView | None = None, live: TrainingProgress | None = None, playground: Playground | None = None
    ) -> None:
        if view is None and live is None:
            raise ValueError("an App serves a model, a training run, or both")
        self.view, self.live, self.playground = view, live, playground
        if playground is not None:
            playground.bind(self)
        self._get_routes: dict[str, Callable[[Query], dict[str, Any]]] = {
            "/api/model": self._model,
            "/api/weights": self._weights,
            "/api/mistakes": lambda query: self._drawing().require_test_set().mistakes(_limit(query)),
            "/api/confusion": self._confusion,
            "/api/test-digit": lambda query: self._drawing().require_test_set().test_digit(_integer(query, "index")),
            "/api/progress": self._progress,
            "/api/live-weights": lambda query: self._training().weights(),
            "/api/network": lambda query: self._drawing().network(None, *diagram_options(query)),
        }

    @property
    def mode(self) -> str:
        return "draw" if self.view is not None else "training"

    def get(self, path: str, query: Query) -> dict[str, Any]:
        if path.startswith(PLAYGROUND):
            return self._playground().get(path, query)
        route = self._get_routes.get(path)
        if route is None:
            raise ApiError(404, f"no such API path: {path}")
        return route(query)

    def check_post(self, path: str) -> None:
        """A 404 or 405 for a path that takes no POST, before its body is looked at."""
        if path.startswith(PLAYGROUND) and self._playground().accepts_post(path):
            return
        if path not in ("/api/predict", "/api/trace", "/api/network"):
            raise ApiError(404 if path not in self._get_routes else 405, f"POST is not accepted at {path}")

    def post(self, path: str, body: bytes) -> dict[str, Any]:
        self.check_post(path)
        if path.startswith(PLAYGROUND):
            return self._playground().post(path, parse_json(body))
        view = self._drawing()
        request = parse_json(body)
        row, downsample = network_input(request)
        if view.model.input_size != row.size:
            raise ApiError(409, f"the model {view.model} takes {view.model.input_size} inputs, not a 28x28 image")
        if path == "/api/trace":
            return view.trace(row, _field(request, "label"), _field(request, "layer"), _field(request, "unit"))
        if path == "/api/network":
            return view.network(row, *diagram_options(request))
        return view.answer(row, downsample)

    def _drawing(self) -> ModelView:
        view = self.view
        if view is None:
            raise ApiError(409, "the model is still training; drawing opens when the run ends")
        return view

    def _playground(self) -> Playground:
        if self.playground is None:
            raise ApiError(404, "no playground here: start the server with netkit serve --train DIR")
        return self.playground

    def _training(self) -> TrainingProgress:
        if self.live is None:
            raise ApiError(404, "no training run here: start one with netkit train --web")
        return self.live

    def _model(self, query: Query) -> dict[str, Any]:
        live = self.live
        base = {
            "mode": self.mode,
            "training": live.progress(-1) if live is not None else None,
            "colour_scale": COLOUR_SCALE,
        }
        if self.view is None:
            return base
        return {**self.view.describe(), **base}

    def _weights(self, query: Query) -> dict[str, Any]:
        return self._drawing().weights(_integer(query, "layer", 0), _integer(query, "unit"))

    def _confusion(self, query: Query) -> dict[str, Any]:
        test_set = self._drawing().require_test_set()
        if "truth" in query or "guess" in query:
            return test_set.cell(_integer(query, "truth"), _integer(query, "guess"), _limit(query))
        return test_set.confusion()

    def _progress(self, query: Query) -> dict[str, Any]:
        return {**self._training().progress(_integer(query, "since", 0)), "mode": self.mode}
