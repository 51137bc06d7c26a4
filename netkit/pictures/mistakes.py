"""A gallery of misclassified digits: which ones, and the picture with truth, guess and confidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from PIL import Image

from netkit.pictures.grids import gallery


@attrs.frozen
class Mistakes:
    """The misclassified rows, most confident first, and how many there were in all."""

    indices: np.ndarray[Any, Any]
    predicted: np.ndarray[Any, Any]
    confidence: np.ndarray[Any, Any]
    total: int
    n: int


def find_mistakes(probabilities: np.ndarray[Any, Any], labels: np.ndarray[Any, Any], most: int) -> Mistakes:
    """The ``most`` misclassified rows the model was surest about (the most telling ones)."""
    predicted = np.argmax(probabilities, axis=1)
    confidence = probabilities[np.arange(len(predicted)), predicted]
    wrong = np.flatnonzero(predicted != labels)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:most]
    return Mistakes(order, predicted[order], confidence[order], int(wrong.size), int(labels.size))


def mistakes_picture(
    images: np.ndarray[Any, Any],
    labels: np.ndarray[Any, Any],
    mistakes: Mistakes,
    class_names: Sequence[str],
    title: str,
    image_shape: tuple[int, int] = (28, 28),
) -> Image.Image:
    captions = [
        [f"true {class_names[labels[index]]}", f"read {class_names[guess]} · {_percent(confidence)}"]
        for index, guess, confidence in zip(
            mistakes.indices.tolist(), mistakes.predicted.tolist(), mistakes.confidence.tolist(), strict=True
        )
    ]
    notes = [
        f"{mistakes.total:,} of {mistakes.n:,} images misclassified ({mistakes.total / max(mistakes.n, 1):.2%}); "
        f"the {len(captions)} it was surest about, surest first",
        "under each: the true class, then what the model read and its confidence",
    ]
    return gallery(images[mistakes.indices], captions, title, notes, image_shape)


def _percent(confidence: float) -> str:
    """``87.5%``; never ``100.0%`` for a probability short of 1."""
    return ">99.9%" if 0.9995 <= confidence < 1.0 else f"{confidence:.1%}"
