"""Accuracy, loss, per-class precision/recall and the confusion matrix of a model on labelled rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, overload

import attrs
import numpy as np

from netkit.data.dataset import checked_targets, one_hot
from netkit.errors import ConfigError
from netkit.model.network import Network
from netkit.types import FloatArray, LabelArray, TargetArray


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


@attrs.frozen(eq=False)
class RegressionEvaluation:
    """The loss (the model's own, e.g. mse), the mean absolute error and R² (1 is perfect, 0 no better than
    predicting the mean) of a model on rows of values. It unpacks as ``loss, mean_absolute_error``, as Keras'
    ``model.evaluate`` does with ``metrics=["mae"]``; ``accuracy`` is ``None``: there are no classes."""

    loss: float
    mean_absolute_error: float
    r2: float
    n: int
    accuracy: None = None

    def __iter__(self) -> Iterator[float]:
        return iter((self.loss, self.mean_absolute_error))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> float:
        return (self.loss, self.mean_absolute_error)[index]

    def to_dict(self) -> dict[str, Any]:
        return {"loss": self.loss, "mean_absolute_error": self.mean_absolute_error, "r2": self.r2, "n": self.n}


@overload
def evaluate(model: Network, images: Any, labels: LabelArray, *, warn_range: bool = True) -> Evaluation: ...


@overload
def evaluate(
    model: Network, images: Any, labels: TargetArray, *, warn_range: bool = True
) -> Evaluation | RegressionEvaluation: ...


def evaluate(
    model: Network, images: Any, labels: TargetArray, *, warn_range: bool = True
) -> Evaluation | RegressionEvaluation:
    """Score ``model`` on ``images`` whose true classes are ``labels``, or, for float ``labels``, whose true
    values they are (``warn_range``: see ``predict_proba``)."""
    outputs = model.predict_proba(images, warn_range=warn_range)
    if outputs.shape[0] == 0:
        raise ConfigError("nothing to evaluate: no images")
    if np.asarray(labels).dtype.kind == "f":
        return _regression_scores(model, outputs, checked_targets(labels, outputs.shape[0], model.output_size))
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (outputs.shape[0],):
        raise ConfigError(f"{outputs.shape[0]} images but {labels.shape[0]} labels")
    classes = model.output_size
    predicted = np.argmax(outputs, axis=1)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    loss = model.loss.value(outputs, one_hot(labels, classes))
    return Evaluation(float(np.mean(predicted == labels)), float(loss), int(labels.shape[0]), confusion)


def _regression_scores(model: Network, outputs: FloatArray, values: TargetArray) -> RegressionEvaluation:
    truth = values.astype(np.float64)
    residual = outputs.astype(np.float64) - truth
    spread = float(np.sum((truth - truth.mean(axis=0)) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / spread if spread > 0 else float("nan")
    loss = float(model.loss.value(outputs, values.astype(outputs.dtype)))
    return RegressionEvaluation(loss, float(np.mean(np.abs(residual))), r2, int(outputs.shape[0]))
