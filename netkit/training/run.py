"""Run semantics, shared by ``netkit train`` and the Python API: defaults, seeds, the saved options, resume.

The options that shape a run (dataset, seed, validation split, network, optimiser) are saved in the model
file's ``training`` mapping, so a resumed run rebuilds exactly the same data split and continues the same
optimiser. Seeds: ``[seed, 0]`` initialises the weights, ``[seed, 1]`` picks the validation rows and
``[seed, 2]`` shuffles the batches. The defaults (:mod:`netkit.training.defaults`: the recipe, the
validation rows; keep-best with a validation set) are the same for ``netkit train`` and ``model.fit``.

``netkit train`` turns its options into a :class:`RunRequest`; :func:`new_run` (or, for ``--resume``,
:func:`netkit.training.resume.resumed_run`) makes a :class:`Run`, whose :meth:`Run.train` fits it with any
callbacks attached (the :class:`Checkpoint`, a live view, a web page). ``netkit.Sequential.fit`` builds on
the same pieces: :func:`choose_recipe`, :func:`seeded`, :func:`merge_optimizer_options`,
:func:`build_optimizer` and :func:`split_for_run`. Messages name the command line's flags (``--lr``) unless
a caller passes its own names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast, overload

import attrs
import numpy as np

from netkit.data import Dataset, split_validation
from netkit.errors import ConfigError, ModelFileError
from netkit.io import model_format, save_model
from netkit.io.atomic import check_writable, interrupts_deferred
from netkit.io.storage import save_problem
from netkit.model.network import Network
from netkit.model.specs import dense_stack, dropout_spec
from netkit.protocols import Optimizer
from netkit.registry import Registry, default_registry, parse_spec
from netkit.registry import format_spec as registry_format_spec
from netkit.training.defaults import choose_recipe
from netkit.training.keepbest import KeepBest, snapshot
from netkit.training.pitfalls import problems_of
from netkit.training.recipe import attach, augmentation_specs, schedule_spec
from netkit.training.trainer import Callback, EpochRecord, History, Trainer
from netkit.types import FloatArray, LabelArray, TargetArray

# The streams of the seed scheme: default_rng([seed, stream]).
WEIGHTS_STREAM, VALIDATION_STREAM, SHUFFLE_STREAM = 0, 1, 2


def requested_activations(request: RunRequest) -> list[str | None]:
    """The hidden activations ``request`` asks for, judged from its specs: nothing is built."""
    if request.layer_specs:
        activations = [canonical_spec("layers", spec).get("activation") for spec in request.layer_specs]
        return [None if activation is None else parse_spec(activation)[0] for activation in activations]
    return [parse_spec(request.activation)[0]] * len(request.layers)


def input_shape_of(dataset: Dataset) -> tuple[int, ...]:
    """A model's input shape for ``dataset``: one channel of its images, or flat rows when it has none."""
    height, width = dataset.image_shape
    return (1, height, width) if height * width == dataset.n_features else (dataset.n_features,)


def seeded(seed: int, stream: int) -> np.random.Generator:
    """The generator of one stream of the seed scheme (weights, validation rows, batch order)."""
    return np.random.default_rng([int(seed), stream])


@attrs.frozen
class RunRequest:
    """What the command line asked for; ``explicit`` names the options the user actually typed."""

    layers: list[int]
    activation: str
    output_activation: str
    loss: str
    optimizer: str | None
    batch_size: int | None
    learning_rate: float | None
    seed: int
    dataset: str
    validation: float | int
    out: Path
    format: str | None
    explicit: frozenset[str] = frozenset()
    augment: str | None = None
    schedule: str | None = None
    dropout: float = 0.0
    input_dropout: float = 0.0
    keep: str | None = None  # best or last; None: best when there is a validation set
    patience: int | None = None
    min_delta: float = 0.0
    epochs: int = 10
    layer_specs: tuple[str, ...] = ()  # --layer SPEC ...: the hidden layers, instead of the --layers stack


@attrs.frozen
class Run:
    """A trainer ready to ``fit`` and the data it trains on."""

    trainer: Trainer
    training: dict[str, Any]
    dataset: Dataset
    train_images: FloatArray
    train_labels: LabelArray
    validation: tuple[FloatArray, LabelArray] | None
    resumed_from: int  # epochs already in the history

    def train(self, epochs: int, callbacks: Sequence[Callback] = ()) -> History:
        """``epochs`` more epochs on the run's data, calling ``callbacks`` (a checkpoint, views) as it goes."""
        return self.trainer.fit(self.train_images, self.train_labels, epochs, self.validation, callbacks)


def output_format(out: Path, requested: str | None) -> str:
    """The file format to save in, decided before any training so a bad ``--out`` fails at once."""
    return requested if requested is not None else model_format(out)


def check_output(out: Path, resume: bool, reset: bool) -> None:
    """Never overwrite a trained model by accident; never resume from nothing."""
    if out.is_dir():
        raise ModelFileError(f"{out} is a directory; --out needs a file name such as model.h5")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():  # found now, not after the first epoch's training
        raise ModelFileError(f"cannot save {out}: folder {folder} does not exist")
    if resume and not out.exists():
        raise ModelFileError(f"nothing to resume: {out} does not exist")
    if out.exists() and not (resume or reset):
        raise ModelFileError(f"{out} exists; use --resume to continue it or --reset to start over")
    try:  # a read-only folder or an immutable file: found before training, not after the first epoch
        check_writable(out)
    except OSError as exc:
        raise ModelFileError(f"cannot save {out}: {save_problem(exc)}") from None


def canonical_spec(group: str, spec: str | dict[str, Any]) -> dict[str, Any]:
    """A spec as the registry writes it back, defaults included, so equal settings compare equal."""
    registry = default_registry()
    return registry.spec_of(group, registry.create(group, spec))


def optimizer_spec(request: RunRequest) -> dict[str, Any]:
    """The ``--optimizer`` spec with ``--lr`` and ``--batch-size`` merged in (see :func:`merge_optimizer_options`)."""
    recipe = choose_recipe(request.optimizer, request.learning_rate, request.schedule, requested_activations(request))
    optimizer = recipe[0]
    return merge_optimizer_options(optimizer, request.learning_rate, request.batch_size)


CLI_FLAGS = {"optimizer": "--optimizer", "learning_rate": "--lr", "batch_size": "--batch-size"}


def merge_optimizer_options(
    optimizer: str | Mapping[str, Any] | Optimizer,
    learning_rate: float | None,
    batch_size: int | None,
    names: Mapping[str, str] = CLI_FLAGS,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """An optimiser spec (or instance) with a separately given learning rate and batch size merged in.

    Without a learning rate the optimiser's own default applies (0.5 for mini-batch). A batch size is
    refused for optimisers that have none (full-batch, stochastic) rather than silently ignored; so is a
    value that contradicts the spec. ``names`` says what the options are called in messages.
    """
    registry = registry or default_registry()
    shown: Any = optimizer
    if isinstance(optimizer, str | Mapping):
        name, config = parse_spec(optimizer)
    else:
        spec = registry.spec_of("optimizers", optimizer)
        name, config = parse_spec(spec)
        shown = format_spec(spec)
    defaults = registry.create("optimizers", name).get_config()
    if "lr" in config:
        config["learning_rate"] = config.pop("lr")
    for key, value in (("learning_rate", learning_rate), ("batch_size", batch_size)):
        if value is None:
            continue
        if key not in defaults:
            raise ConfigError(f"optimizer {name!r} has no {key.replace('_', ' ')}; drop {names[key]}")
        if key in config and config[key] != value:
            raise ConfigError(f"{names['optimizer']} {shown} and {names[key]} {value} disagree")
        config[key] = value
    return {"type": name, **config}


def check_setup(request: RunRequest) -> None:
    """Refuse a network that cannot learn (cross-entropy over sigmoid outputs); lesser problems are warned
    about when training starts (see :mod:`netkit.training.pitfalls`). Judged from the plugin names: nothing is built."""
    hidden = [parse_spec(request.activation)[0]] * len(request.layers)
    output, loss = parse_spec(request.output_activation)[0], parse_spec(request.loss)[0]
    for problem in problems_of(hidden, output, loss):
        if problem.wrong:
            raise ConfigError(problem.message)


def format_spec(spec: Mapping[str, Any]) -> str:
    """``{"type": "adam", "learning_rate": 0.01}`` as ``adam:learning_rate=0.01``, as a user would type it."""
    return registry_format_spec(str(spec.get("type")), {key: value for key, value in spec.items() if key != "type"})


def build_optimizer(spec: str | Mapping[str, Any], registry: Registry | None = None) -> Optimizer:
    """The optimiser for ``spec``; a bad value is a :class:`ConfigError`."""
    optimizer: Optimizer = _build("optimizers", spec, registry)
    return optimizer


def _build(group: str, spec: str | Mapping[str, Any], registry: Registry | None = None) -> Any:
    try:
        return (registry or default_registry()).create(group, spec)
    except (TypeError, ValueError) as exc:  # a plugin's own validator
        raise ConfigError(f"bad {group[:-1]} {spec!r}: {exc}") from None


@overload
def split_for_run(
    images: FloatArray, labels: LabelArray, validation: float | int | None, seed: int
) -> tuple[FloatArray, LabelArray, tuple[FloatArray, LabelArray] | None]: ...


@overload
def split_for_run(
    images: FloatArray, labels: TargetArray, validation: float | int | None, seed: int
) -> tuple[FloatArray, TargetArray, tuple[FloatArray, TargetArray] | None]: ...


def split_for_run(
    images: FloatArray, labels: TargetArray, validation: float | int | None, seed: int
) -> tuple[FloatArray, TargetArray, tuple[FloatArray, TargetArray] | None]:
    """The training rows and the validation pair (or ``None``) that the seed scheme carves from them (float
    values to regress onto are split as class labels are)."""
    if not validation:
        return images, labels, None
    split = split_validation(images, cast(LabelArray, labels), validation, seeded(seed, VALIDATION_STREAM))
    return split.train_images, split.train_labels, (split.validation_images, split.validation_labels)


def recorded_options(network: Network, seed: int, validation: float | int, optimizer: Optimizer) -> dict[str, Any]:
    """The options a run saves in its file's ``training`` mapping (its dataset and extras aside), the same
    whether ``netkit train`` or ``model.fit`` started it: ``--resume`` and a later ``fit`` check against them."""
    spec = network.registry.spec_of
    weighted = [(layer, size) for layer, size in zip(network.layers, network.sizes[1:], strict=True) if layer.weights]
    hidden, output = weighted[:-1], network.layers[-1]
    first_activation = hidden[0][0].activation if hidden else None
    return {
        "seed": seed,
        "validation": validation,
        "layers": [size for _, size in hidden],
        "activation": spec("activations", first_activation) if first_activation is not None else None,
        "output_activation": spec("activations", output.activation) if output.activation is not None else None,
        "loss": spec("losses", network.loss),
        "optimizer": spec("optimizers", optimizer),
    }


def new_run(request: RunRequest, dataset: Dataset) -> Run:
    """A fresh model for ``dataset``: hidden layers as asked, one output unit per class."""
    registry = default_registry()
    layers: list[Any] = [dropout_spec(request.input_dropout)] if request.input_dropout else []
    if request.layer_specs:
        layers.extend(canonical_spec("layers", spec) for spec in request.layer_specs)
    for layer in dense_stack(request.layers, request.activation, registry):
        layers.append(layer)
        if request.dropout:
            layers.append(dropout_spec(request.dropout))
    layers.extend(dense_stack([dataset.n_classes], request.output_activation, registry))
    loss = canonical_spec("losses", request.loss)
    model = Network(input_shape_of(dataset), layers, loss, seeded(request.seed, WEIGHTS_STREAM))
    optimizer = build_optimizer(optimizer_spec(request))
    trainer = Trainer(model, optimizer, seeded(request.seed, SHUFFLE_STREAM))
    training = {"dataset": request.dataset, **recorded_options(model, request.seed, request.validation, optimizer)}
    extras = {
        "augment": augmentation_specs(request.augment),
        "schedule": schedule_spec(request.schedule, request.epochs),
        "dropout": request.dropout,
        "input_dropout": request.input_dropout,
    }
    if request.layer_specs:
        extras["layer_specs"] = [canonical_spec("layers", spec) for spec in request.layer_specs]
    training.update({key: value for key, value in extras.items() if value})
    if request.validation and request.keep != "last":
        training["keep"] = "best"
    if request.patience is not None:
        training["patience"], training["min_delta"] = request.patience, request.min_delta
    attach(trainer, training)
    return with_data(trainer, training, dataset, 0)


def with_data(trainer: Trainer, training: dict[str, Any], dataset: Dataset, done: int) -> Run:
    seed = int(training.get("seed", 0))
    images, labels, pair = split_for_run(dataset.train_images, dataset.train_labels, training.get("validation"), seed)
    return Run(trainer, training, dataset, images, labels, pair, done)


class Checkpoint(Callback):
    """Saves the trainer after every epoch (atomically), so an interrupted run loses at most one epoch.

    With a ``keeper`` (keep best), the file's model is the best epoch so far and the last epoch's parameters
    ride along for ``--resume``. The keeper must come before the checkpoint in the callbacks.
    """

    def __init__(self, out: Path, training: dict[str, Any], file_format: str, keeper: KeepBest | None = None) -> None:
        self.out, self.training, self.file_format, self.keeper = out, training, file_format, keeper
        self.saved_epoch: int | None = None
        self.held_epoch: int | None = None

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        model_file = snapshot(trainer, self.training, self.keeper)
        # Ctrl-C is held across the save *and* the note of what was saved: an interrupt that lands between
        # the two would otherwise report the previous epoch for a file that already holds this one.
        with interrupts_deferred():
            save_model(model_file, self.out, format=self.file_format)
            self.saved_epoch = record.epoch
            self.held_epoch = self.training["held_epoch"] = model_file.training["held_epoch"]
