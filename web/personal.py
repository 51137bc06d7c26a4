"""Teach it your handwriting, on the page: your digits as a png-folder under DIR, and a fine-tune on them.

A drawn digit goes through the one preprocessing the page's predictions use (:func:`netkit.web.inputs.network_input`:
crop to the ink, fit in 20x20, centre by mass) and is saved as the 28x28 grayscale PNG the network would
see, ``DIR/<set>/<digit>/<n>.png`` — the layout ``netkit finetune`` and the ``png-folder`` dataset read.
The fine-tune is the core's (:func:`netkit.training.finetune.finetune`); it always starts from the model the
server was started with, and the page then draws with the fine-tuned one.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from netkit.data.images import SIDE, has_ink
from netkit.errors import DatasetError
from netkit.io import save_model
from netkit.io.atomic import write_bytes_atomically
from netkit.training.finetune import MAX_EPOCHS, FinetuneOptions, finetune, personal_digits

from .errors import ApiError
from .fields import checked_name, inside, whole
from .inputs import network_input
from .inspection import ModelView, ScoredTestSet

if TYPE_CHECKING:
    from .playground import Playground

MAX_PERSONAL = 2000  # digits in one set: a person draws dozens; this bounds a fine-tune's time


class PersonalDigits:
    """The personal sets under ``root`` and the fine-tunes made from them."""

    def __init__(self, root: Path, playground: Playground) -> None:
        self.root, self.playground = root, playground
        self.original: ModelView | None = None
        self._naming = threading.Lock()

    def counts(self, name: str) -> dict[str, Any]:
        folder = self.root / name
        counts = {str(digit): _count(folder / str(digit)) for digit in range(10)}
        return {"set": name, "folder": str(folder), "counts": counts, "total": sum(counts.values())}

    def add(self, request: dict[str, Any]) -> dict[str, Any]:
        name = checked_name(request.get("set", "mine"), "set")
        digit = whole(request, "digit", 0, 9)
        body: dict[str, Any] = {key: request[key] for key in ("image", "pixels") if key in request}
        row, _ = network_input(body)
        if not has_ink(row):
            raise ApiError(400, "nothing is drawn: draw a digit first")
        if self.counts(name)["total"] >= MAX_PERSONAL:
            raise ApiError(409, f"the set {name} holds {MAX_PERSONAL} digits, the most one set may")
        folder = inside(self.root, name, str(digit))
        pixels = np.clip(np.round(row.reshape(SIDE, SIDE) * 255), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
        with self._naming:  # two quick clicks must not pick the same file name
            folder.mkdir(parents=True, exist_ok=True)
            number = _count(folder) + 1
            while (folder / f"{number}.png").exists():
                number += 1
            path = folder / f"{number}.png"
            write_bytes_atomically(path, buffer.getvalue())
        return {**self.counts(name), "added": str(path.relative_to(self.root)), "pixels": (pixels / 255).tolist()}

    def finetune(self, request: dict[str, Any]) -> dict[str, Any]:
        name = checked_name(request.get("set", "mine"), "set")
        original = self.original
        dataset = self.playground.dataset
        if original is None or dataset is None:
            raise ApiError(409, "fine-tuning needs the served model and the MNIST data; the server has no dataset")
        folder = inside(self.root, name)
        try:
            images, labels = personal_digits(folder, original.model.output_size)
        except DatasetError as exc:
            raise ApiError(400, f"no digits to learn from yet: {exc}") from None
        options = FinetuneOptions(
            epochs=whole(request, "epochs", 1, MAX_EPOCHS, 3),
            mix=whole(request, "mix", 0, len(dataset.train_labels), min(10_000, len(dataset.train_labels))),
        )
        result = finetune(original.model_file, images, labels, dataset, options, source=original.source)
        out = inside(self.root, f"{name}-finetuned.h5")
        save_model(result.model_file, out, format="hdf5")
        view = ModelView(result.model_file, str(out), ScoredTestSet(result.model_file, dataset, dataset.name))
        self.playground.app.view = view  # the page now draws with the fine-tuned model
        return {**result.to_dict(), "set": name, "file": out.name, "dataset": dataset.name, "serving": str(out)}


def _count(folder: Path) -> int:
    try:
        return sum(1 for entry in folder.iterdir() if entry.suffix == ".png" and not entry.name.startswith("."))
    except OSError:
        return 0
