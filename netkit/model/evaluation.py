"""Accuracy, loss, per-class precision/recall and the confusion matrix of a model on labelled rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np

from netkit.data.dataset import one_hot
from netkit.errors import ConfigError
from netkit.model.network import Network
from netkit.types import LabelArray


@attrs.frozen(eq=False)
class Evaluation:
    """``confusion[true, predicted]`` counts samples; precision and recall are per class (NaN when undefined).

    It unpacks as Keras' ``loss, accuracy = model.evaluate(x, y)`` (and ``scores[1]`` is the accuracy).
    """

    accuracy: float
    loss: float
    n: int
    confusion: np.ndarray[Any, np.dtype[np.int64]]

    @property
    def precision(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        predicted = self.confusion.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            result: np.ndarray[Any, np.dtype[np.float64]] = np.diag(self.confusion) / predicted
        return result

    @property
    def recall(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        actual = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            result: np.ndarray[Any, np.dtype[np.float64]] = np.diag(self.confusion) / actual
        return result

    def __iter__(self) -> Iterator[float]:
        return iter((self.loss, self.accuracy))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> float:
        return (self.loss, self.accuracy)[index]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "loss": self.loss,
            "n": self.n,
            "confusion": self.confusion.tolist(),
            "precision": [None if np.isnan(v) else float(v) for v in self.precision],
            "recall": [None if np.isnan(v) else float(v) for v in self.recall],
        }


def evaluate(
    model: Network, images: np.ndarray[Any, Any], labels: LabelArray, *, warn_range: bool = True
) -> Evaluation:
    """Score ``model`` on ``images`` whose true classes are ``labels`` (``warn_range``: see ``predict_proba``)."""
    labels = np.asarray(labels, dtype=np.int64)
    outputs = model.predict_proba(images, warn_range=warn_range)
    if labels.shape != (outputs.shape[0],):
        raise ConfigError(f"{outputs.shape[0]} images but {labels.shape[0]} labels")
    if outputs.shape[0] == 0:
        raise ConfigError("nothing to evaluate: no images")
    classes = model.output_size
    predicted = np.argmax(outputs, axis=1)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    loss = model.loss.value(outputs, one_hot(labels, classes))
    return Evaluation(float(np.mean(predicted == labels)), float(loss), int(labels.shape[0]), confusion)
