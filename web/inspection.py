"""What the page shows about one model: answers with every layer's output, weights, mistakes, confusion.

A model's layers keep their forward buffers between calls, so one lock serialises every call into it: the
server answers requests on many threads.
"""

from __future__ import annotations

import base64
import io
import threading
from typing import Any

import numpy as np
from PIL import Image

from netkit.data import Dataset
from netkit.data.images import SIDE
from netkit.errors import ConfigError
from netkit.io import ModelFile
from netkit.model.diagram import Column, LinkMeasure, diagram
from netkit.model.evaluation import evaluate
from netkit.model.layer import Flatten, Layer
from netkit.types import FloatArray

from .errors import ApiError

DEFAULT_EXAMPLES = 50
MAX_EXAMPLES = 500


def _rounded(values: FloatArray, digits: int = 5) -> list[Any]:
    """A JSON-ready nested list; rounding keeps replies small without changing what the page can show."""
    result: list[Any] = np.round(values.astype(np.float64), digits).tolist()
    return result


def thumbnail(row: FloatArray) -> str:
    """A 28x28 row as a grayscale PNG data URL (ink white on black, as MNIST stores it)."""
    pixels = np.clip(np.rint(row.reshape(SIDE, SIDE) * 255), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class ScoredTestSet:
    """The model's answers on a test set, worked out once: mistakes and the confusion matrix come from it."""

    def __init__(self, model_file: ModelFile, dataset: Dataset, dataset_name: str) -> None:
        self.dataset, self.dataset_name = dataset, dataset_name
        self.scores = evaluate(model_file.model, dataset.test_images, dataset.test_labels)
        probabilities = model_file.model.predict_proba(dataset.test_images)
        self.guesses = np.argmax(probabilities, axis=1)
        self.confidences = probabilities[np.arange(len(self.guesses)), self.guesses]

    def summary(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset_name,
            "n": self.scores.n,
            "accuracy": self.scores.accuracy,
            "classes": list(self.dataset.class_names),
        }

    def confusion(self) -> dict[str, Any]:
        return {"classes": list(self.dataset.class_names), "matrix": self.scores.confusion.tolist(), **self.summary()}

    def examples(self, indices: np.ndarray[Any, Any], limit: int) -> dict[str, Any]:
        chosen = indices[:limit]
        labels = self.dataset.test_labels
        return {
            "count": int(indices.size),
            "examples": [
                {
                    "index": int(index),
                    "truth": int(labels[index]),
                    "guess": int(self.guesses[index]),
                    "confidence": float(self.confidences[index]),
                    "image": thumbnail(self.dataset.test_images[index]),
                }
                for index in chosen
            ],
        }

    def mistakes(self, limit: int) -> dict[str, Any]:
        """Wrong answers, the most confident first: the ones most worth a look."""
        wrong = np.flatnonzero(self.guesses != self.dataset.test_labels)
        order = wrong[np.argsort(-self.confidences[wrong], kind="stable")]
        return self.examples(order, limit)

    def cell(self, truth: int, guess: int, limit: int) -> dict[str, Any]:
        classes = self.dataset.n_classes
        if not (0 <= truth < classes and 0 <= guess < classes):
            raise ApiError(400, f"truth and guess must be classes 0..{classes - 1}; got truth={truth}, guess={guess}")
        inside = np.flatnonzero((self.dataset.test_labels == truth) & (self.guesses == guess))
        return {"truth": truth, "guess": guess, **self.examples(inside, limit)}

    def test_digit(self, index: int) -> dict[str, Any]:
        count = len(self.dataset.test_labels)
        if not 0 <= index < count:
            raise ApiError(404, f"no test image {index}: the test set has {count} (0..{count - 1})")
        row = self.dataset.test_images[index]
        return {
            "index": index,
            "label": int(self.dataset.test_labels[index]),
            # Plain floats, not rounded: sent back with "preprocess": false they are the very row evaluate scores.
            "pixels": row.reshape(SIDE, SIDE).astype(np.float64).tolist(),
        }


class ModelView:
    """A loaded model as the page sees it; ``lock`` guards every forward pass through it."""

    def __init__(self, model_file: ModelFile, source: str, test_set: ScoredTestSet | None = None) -> None:
        self.model_file, self.source, self.test_set = model_file, source, test_set
        self.model = model_file.model
        self.lock = threading.Lock()
        # The layers the page shows: a flatten only reshapes (the page draws the input as an image anyway).
        self.shown = [index for index, layer in enumerate(self.model.layers) if not isinstance(layer, Flatten)]

    def describe(self) -> dict[str, Any]:
        model = self.model
        layers = []
        for shown, index in enumerate(self.shown):
            layer = model.layers[index]
            activation = layer.activation
            layers.append(
                {
                    "index": shown,
                    "spec": model.registry.spec_of("layers", layer),
                    "inputs": model.sizes[index],
                    "units": model.sizes[index + 1],
                    "activation": model.registry.name_of("activations", activation) if activation else None,
                }
            )
        return {
            "source": self.source,
            "architecture": repr(model),
            "input_size": model.input_size,
            "image_side": SIDE if model.input_size == SIDE * SIDE else None,
            "sizes": [model.sizes[0], *(model.sizes[index + 1] for index in self.shown)],
            "layers": layers,
            "parameter_count": model.parameter_count,
            "history": self.model_file.history.to_dict(),
            "training": self.model_file.training,
            "format": self.model_file.format_name,
            "format_version": self.model_file.format_version,
            "netkit_version": self.model_file.netkit_version,
            "test": self.test_set.summary() if self.test_set is not None else None,
        }

    def answer(self, row: FloatArray, downsample: FloatArray) -> dict[str, Any]:
        """The reply to a drawing: ``row`` is what the network sees, ``downsample`` the plain resize."""
        with self.lock:
            every = self.model.activations(row.reshape(1, -1))
            # What ``netkit predict`` and evaluate give, to the last bit (inference may compute the layers in
            # other passes than ``activations``, which shows every layer: bench/README.md, "Inference").
            probabilities = self.model.predict_proba(row.reshape(1, -1), warn_range=False)[0]
        inputs = [row.reshape(1, -1), *every[:-1]]
        outputs = [every[index] for index in self.shown]
        return {
            "digit": int(np.argmax(probabilities)),
            "probabilities": [float(p) for p in probabilities],
            "input": _rounded(row.reshape(SIDE, SIDE), 4),
            "downsample": _rounded(downsample.reshape(SIDE, SIDE), 4),
            "activations": [_rounded(output[0]) for output in outputs],
            "weighted_inputs": [self._weighted_input(index, inputs[index]) for index in self.shown],
        }

    def _weighted_input(self, index: int, layer_input: FloatArray) -> list[Any] | None:
        """z = x W + b of a dense layer, shown on hover; ``None`` for a layer without those weights.

        Recomputed from the weights rather than read from the layer, whose buffers are private.
        """
        layer = self.model.layers[index]
        if layer.weights != ("weight",) or "bias" not in layer.parameters or layer.parameters["weight"].ndim != 2:
            return None
        return _rounded(
            (layer_input.reshape(len(layer_input), -1) @ layer.parameters["weight"] + layer.parameters["bias"])[0]
        )

    def trace(self, row: FloatArray, label: int, layer_index: int, unit: int) -> dict[str, Any]:
        """One learning step on the drawing with ``label`` (on a copy: the model and its file never change),
        and unit ``unit`` of shown layer ``layer_index`` written out; all of it from ``model.trace``."""
        self._shown_layer(layer_index)
        name = self.model.layer_names[self.shown[layer_index]]
        try:
            with self.lock:
                traced = self.model.trace(row.reshape(1, -1), label, unit=(name, unit))
        except ConfigError as exc:
            raise ApiError(400, str(exc)) from None
        whole = traced.to_dict()
        keys = ["label", "loss", "loss_before", "loss_after", "prediction_before", "prediction_after"]
        keys += ["probabilities_before", "probabilities_after", "optimizer", "learning_rate", "unit"]
        return {"layer": layer_index, **{key: whole[key] for key in keys}}

    def _shown_layer(self, layer_index: int) -> Layer:
        if not 0 <= layer_index < len(self.shown):
            raise ApiError(404, f"no layer {layer_index}: the model has layers 0..{len(self.shown) - 1}")
        return self.model.layers[self.shown[layer_index]]

    def weights(self, layer_index: int, unit: int) -> dict[str, Any]:
        layer = self._shown_layer(layer_index)
        if not layer.weights or layer.parameters[layer.weights[0]].ndim not in (2, 4):
            raise ApiError(404, f"layer {layer_index} ({layer.describe()}) has no weight matrix or kernel")
        units = layer.parameters[layer.weights[0]].shape[-1]
        if not 0 <= unit < units:
            raise ApiError(404, f"no unit {unit} in layer {layer_index}: it has units 0..{units - 1}")
        incoming = self._incoming(self.shown[layer_index], unit)
        shape = list(incoming.shape)
        if incoming.ndim == 1 and incoming.size == SIDE * SIDE:
            shape = [SIDE, SIDE]
        return {
            "layer": layer_index,
            "unit": unit,
            "inputs": int(incoming.size),
            "shape": shape,
            "weights": incoming.astype(np.float64).reshape(-1).tolist(),
            "bias": float(layer.parameters["bias"][unit]) if "bias" in layer.parameters else 0.0,
        }

    def _incoming(self, index: int, unit: int) -> FloatArray:
        """A unit's incoming weights shaped as what feeds it: a kernel as (channels, kh, kw); a dense unit's
        weights as the maps below (channels, height, width) when a flatten feeds it, else one row."""
        layer = self.model.layers[index]
        weight = layer.parameters[layer.weights[0]]
        if weight.ndim == 4:  # a convolution's (kh, kw, channels, filters)
            kernel: FloatArray = weight[..., unit].transpose(2, 0, 1)
            return kernel
        below = self.model.shapes[index - 1] if index > 0 and isinstance(self.model.layers[index - 1], Flatten) else ()
        column: FloatArray = weight[:, unit]
        return column.reshape(below) if len(below) == 3 else column

    def network(
        self, row: FloatArray | None, nodes: int, links: int, measure: LinkMeasure = "contribution"
    ) -> dict[str, Any]:
        """The network as the page draws it (see :mod:`netkit.model.diagram`), for a drawing or for none."""
        with self.lock:
            drawn = diagram(self.model, None if row is None else row.reshape(1, -1), nodes, links, measure)
        return {
            "measure": drawn.measure,
            "nodes_per_layer": nodes,
            "links_per_layer": links,
            "columns": [self._column(column) for column in drawn.columns],
        }

    def _column(self, column: Column) -> dict[str, Any]:
        model = self.model
        layer = model.layers[column.layer] if column.layer >= 0 else None
        activation = layer.activation if layer is not None else None
        links = column.links
        kernels = None
        if layer is not None and layer.weights and layer.parameters[layer.weights[0]].ndim == 4:
            kernels = [_rounded(self._incoming(column.layer, int(node)), 4) for node in column.drawn]
        return {
            "layer": self.shown.index(column.layer) if layer is not None else -1,
            "name": model.layer_names[column.layer] if layer is not None else "input",
            "description": layer.describe() if layer is not None else "input",
            "activation": model.registry.name_of("activations", activation) if activation is not None else None,
            "kind": "maps" if column.node_shape else "units",
            "nodes": column.nodes,
            "node_shape": list(column.node_shape),
            "drawn": column.drawn.tolist(),
            "chosen_by": column.chosen_by,
            "values": _rounded(column.values, 4) if column.values is not None else None,
            "weighted_sums": _rounded(column.weighted_sums, 4) if column.weighted_sums is not None else None,
            "peaks": column.peaks.tolist() if column.peaks is not None else None,
            "kernels": kernels,
            "links": None
            if links is None
            else {
                "kind": links.kind,
                "sources": links.sources.tolist(),
                "targets": links.targets.tolist(),
                "values": _rounded(links.values, 5),
                "total": links.total,
            },
        }

    def require_test_set(self) -> ScoredTestSet:
        if self.test_set is None:
            raise ApiError(404, "no test set loaded, so no mistakes or confusion matrix (see the server's output)")
        return self.test_set
