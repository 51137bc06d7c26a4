"""``netkit serve --train DIR``: the playground's JSON API — train a network of your choosing and steer it.

Everything the playground writes goes under DIR: a run as ``DIR/<name>.h5``, your digits as
``DIR/<set>/<digit>/<n>.png`` and their fine-tuned model as ``DIR/<set>-finetuned.h5`` (see
:mod:`netkit.web.personal`). Names are letters, digits, ``-`` and ``_`` only, so no name reaches outside DIR.

One job at a time (a run or a fine-tune): a second start is a 409. A run is bounded by :data:`LIMITS` (the
page shows them): layers, units, parameters, epochs, training rows and seconds of training.
The run itself is the core's: the page's choices become a :class:`~netkit.training.run.RunRequest` and
:func:`~netkit.training.run.new_run` builds it, with the defaults ``netkit train`` has.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from netkit.data import Dataset
from netkit.io.limits import dense_parameter_count, parameter_count, planned_layers
from netkit.registry import default_registry
from netkit.training.defaults import DEFAULT_VALIDATION, choose_recipe
from netkit.training.recipe import augmentation_specs
from netkit.training.run import (
    RunRequest,
    check_setup,
    format_spec,
    input_shape_of,
    new_run,
    optimizer_spec,
    requested_activations,
)

from .errors import ApiError
from .fields import checked_name, inside, rate, text, whole
from .personal import PersonalDigits
from .training_job import Steering, TrainingJob

if TYPE_CHECKING:
    from .routes import App

LIMITS = {
    "hidden_layers": 4,
    "units": 256,
    "layer_specs": 6,
    "parameters": 300_000,
    "epochs": 20,
    "train_rows": 60_000,
    "batch_size": 1024,
    "delay_ms": 2000,
    "seconds": 600,
}
DEFAULT_ACTIVATION, DEFAULT_EPOCHS, DEFAULT_TRAIN_ROWS = "sigmoid", 3, 10_000
DEFAULTS = {"activation": DEFAULT_ACTIVATION, "epochs": DEFAULT_EPOCHS, "train_rows": DEFAULT_TRAIN_ROWS}
POSTS = ("start", "pause", "resume", "step", "stop", "settings", "personal/add", "finetune")


def hidden_layers(request: Mapping[str, Any]) -> list[int]:
    """``"16,16"`` (or ``[16, 16]``) as widths, within the limits."""
    value = request.get("layers", "16,16")
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, list) or not all(isinstance(p, int | str) and not isinstance(p, bool) for p in parts):
        raise ApiError(400, f'"layers" must be widths such as "16,16", not {value!r}')
    try:
        widths = [int(str(part).strip()) for part in parts if str(part).strip()]
    except ValueError:
        raise ApiError(400, f'"layers" must be widths such as "16,16", not {value!r}') from None
    if len(widths) > LIMITS["hidden_layers"] or not all(1 <= width <= LIMITS["units"] for width in widths):
        raise ApiError(400, f"at most {LIMITS['hidden_layers']} hidden layers of 1..{LIMITS['units']} units each")
    return widths


def layer_specs(request: Mapping[str, Any], dataset: Dataset) -> tuple[str, ...]:
    """``["conv2d:filters=4,kernel=5", "dense:units=32"]``: checked against the limits before anything is built."""
    value = request.get("layer_specs") or []
    if not isinstance(value, list) or not all(isinstance(spec, str) and spec.strip() for spec in value):
        raise ApiError(400, '"layer_specs" must be a list of layer specs such as "dense:units=32"')
    if len(value) > LIMITS["layer_specs"]:
        raise ApiError(400, f"at most {LIMITS['layer_specs']} layer specs")
    specs = tuple(spec.strip() for spec in value)
    if specs:
        config = {"input_shape": list(input_shape_of(dataset)), "layers": [*specs, "dense:units=10"]}
        planned = planned_layers(config, default_registry()) or []
        count = parameter_count(shape for _, shapes in planned for shape in shapes.values())
        if count > LIMITS["parameters"]:
            raise ApiError(400, f"these layers have {count:,} parameters; the playground trains at most "
                           f"{LIMITS['parameters']:,}")  # fmt: skip
    return specs


class Playground:
    """The playground of one server: its folder, its dataset, and the one job it runs at a time."""

    def __init__(self, root: Path, dataset: Dataset | None, seconds_limit: float = LIMITS["seconds"]) -> None:
        self.root, self.dataset, self.seconds_limit = root, dataset, seconds_limit
        self.job: TrainingJob | None = None
        self._lock = threading.Lock()  # held while a job starts, and for the whole of a fine-tune
        self.personal = PersonalDigits(root, self)

    def bind(self, app: App) -> None:
        self.app = app
        self.personal.original = app.view

    @property
    def training(self) -> bool:
        return self.job is not None and self.job.alive

    def accepts_post(self, path: str) -> bool:
        return path.removeprefix("/api/playground/") in POSTS

    def get(self, path: str, query: Mapping[str, list[str]]) -> dict[str, Any]:
        action = path.removeprefix("/api/playground/")
        if action == "status":
            since = query.get("since", ["0"])[-1]
            return self.status(int(since) if since.isdigit() else 0)
        if action == "weights":
            return self.job.steering.weights() if self.job is not None else {"version": 0, "units": 0, "data": ""}
        if action == "personal":
            return self.personal.counts(checked_name(query.get("set", ["mine"])[-1], "set"))
        raise ApiError(404, f"no such API path: {path}")

    def post(self, path: str, request: dict[str, Any]) -> dict[str, Any]:
        action = path.removeprefix("/api/playground/")
        if action == "start":
            return self.start(request)
        if action == "personal/add":
            return self.personal.add(request)
        if action == "finetune":
            with self._exclusive("fine-tune"):
                return self.personal.finetune(request)
        job = self._running()
        steering = job.steering
        if action == "pause":
            steering.pause()
        elif action == "resume":
            steering.resume()
        elif action == "step":
            if not steering.paused:
                raise ApiError(409, "pause the run before stepping it one batch at a time")
            steering.step()
        elif action == "stop":
            steering.stop()
            job.thread.join(timeout=10)  # it stops after the batch in progress, then saves
        elif action == "settings":
            new_rate = rate(request)
            if "delay_ms" in request:
                steering.set_delay(whole(request, "delay_ms", 0, LIMITS["delay_ms"]) / 1000)
            if new_rate is not None:
                steering.set_rate(new_rate)
        return self.status(-1)

    def status(self, since: int) -> dict[str, Any]:
        base = {"folder": str(self.root), "limits": LIMITS, "defaults": DEFAULTS, "busy": self._lock.locked()}
        job = self.job
        if job is None:
            return {**base, "job": None}
        steering = job.steering
        return {**base, "job": job.describe(), "controls": steering.controls(), "progress": steering.progress(since)}

    def close(self) -> None:
        """Stop a run in progress and wait for its last save (the server is shutting down)."""
        job = self.job
        if job is not None and job.alive:
            job.steering.stop("the server stopping")
            job.thread.join(timeout=30)

    def _running(self) -> TrainingJob:
        job = self.job
        if job is None or not job.alive:
            raise ApiError(409, "no run is training; start one first")
        return job

    def _exclusive(self, what: str) -> _Release:
        if self.training or not self._lock.acquire(blocking=False):
            raise ApiError(
                409, f"one job at a time: a run or a fine-tune is under way; wait or stop it before this {what}"
            )
        return _Release(self._lock)

    def start(self, request: Mapping[str, Any]) -> dict[str, Any]:
        dataset = self.dataset
        if dataset is None:
            raise ApiError(409, "no dataset to train on (the server could not load MNIST)")
        with self._exclusive("run"):
            name = checked_name(request.get("name"), "name")
            out = inside(self.root, f"{name}.h5")
            if out.exists() and request.get("overwrite") is not True:
                raise ApiError(409, f"{out.name} exists in the playground's folder; choose another name")
            job = self._new_job(request, dataset, name, out)
            self.job = job
            job.start()
        return self.status(0)

    def _new_job(self, request: Mapping[str, Any], dataset: Dataset, name: str, out: Path) -> TrainingJob:
        specs = layer_specs(request, dataset)
        widths = [] if specs else hidden_layers(request)
        epochs = whole(request, "epochs", 1, LIMITS["epochs"], DEFAULT_EPOCHS)
        rows = whole(request, "train_rows", 100, LIMITS["train_rows"], DEFAULT_TRAIN_ROWS)
        delay = whole(request, "delay_ms", 0, LIMITS["delay_ms"], 0) / 1000
        batch = None if request.get("batch_size") is None else whole(request, "batch_size", 1, LIMITS["batch_size"])
        if widths and dense_parameter_count([dataset.n_features, *widths, dataset.n_classes]) > LIMITS["parameters"]:
            raise ApiError(400, f"the playground trains at most {LIMITS['parameters']:,} parameters")
        run_request = RunRequest(
            layers=widths,
            activation=text(request, "activation", DEFAULT_ACTIVATION) or DEFAULT_ACTIVATION,
            output_activation="softmax",
            loss="cross-entropy",
            optimizer=text(request, "optimizer"),
            batch_size=batch,
            learning_rate=rate(request),
            seed=whole(request, "seed", 0, 2**31 - 1, 0),
            dataset=dataset.name,
            validation=DEFAULT_VALIDATION,
            out=out,
            format="hdf5",
            augment=text(request, "augment"),
            schedule=None,
            keep="last",  # the file holds the weights the page shows
            epochs=epochs,
            layer_specs=specs,
        )
        recipe = choose_recipe(
            run_request.optimizer, run_request.learning_rate, None, requested_activations(run_request)
        )
        optimizer, learning_rate, schedule = recipe
        run_request = attrs.evolve(run_request, optimizer=optimizer, learning_rate=learning_rate, schedule=schedule)
        check_setup(run_request)
        optimizer_spec(run_request)
        augmentation_specs(run_request.augment)
        subset = Dataset(
            dataset.name,
            dataset.train_images[:rows],
            dataset.train_labels[:rows],
            dataset.test_images,
            dataset.test_labels,
            dataset.class_names,
            dataset.image_shape,
        )
        run = new_run(run_request, subset)
        run.training["train_rows"] = rows
        validation = len(run.validation[1]) if run.validation is not None else 0
        description = (
            f"{format_spec(run.training['optimizer'])} · {dataset.name}: {len(run.train_labels):,} train / "
            f"{validation:,} validation rows · saving {out.name}"
        )
        paused = request.get("paused") is True
        return TrainingJob(
            name, out, run, epochs, Steering(description, run.training, delay, self.seconds_limit, paused)
        )


class _Release:
    """Releases a lock acquired before entering (``with``)."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        self.lock.release()
