"""Resuming a run: the file's trainer, the keeper of its best epoch, and the options that disagree with it.

``netkit train --resume`` continues a file as it was trained: the data split, optimiser, schedule,
augmentation and keep-best settings all come from the file's ``training`` options (see :mod:`netkit.training.run`),
and options typed on the command line that contradict them are refused rather than silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from netkit.data import Dataset
from netkit.errors import ConfigError
from netkit.io import ModelFile, load_model
from netkit.registry import default_registry, parse_spec
from netkit.training.defaults import PLAIN_OPTIMIZER
from netkit.training.keepbest import KeepBest
from netkit.training.recipe import attach, augmentation_specs, schedule_spec
from netkit.training.run import Run, RunRequest, canonical_spec, format_spec, with_data
from netkit.training.trainer import Trainer
from netkit.types import FloatArray


def open_resumed(out: Path) -> tuple[ModelFile, Trainer, FloatArray]:
    """The file, a trainer continuing it, and the parameters the file's model holds (the kept epoch's)."""
    model_file = load_model(out)
    held = model_file.model.parameters.copy()
    return model_file, model_file.to_trainer(), held


def keeper_for(training: dict[str, Any], trainer: Trainer, held: FloatArray | None) -> KeepBest | None:
    """The best-epoch keeper a run's options ask for (``keep: best`` or a patience), picked up where the
    history ends when resuming; None when the file simply holds the last epoch."""
    patience = training.get("patience")
    if training.get("keep") != "best" and patience is None:
        return None
    keeper = KeepBest(patience, float(training.get("min_delta") or 0.0))
    if trainer.history.epochs:
        keeper.resume(trainer.history.epochs, held)
    return keeper


def resumed_run(request: RunRequest, model_file: ModelFile, trainer: Trainer, dataset: Dataset) -> Run:
    """Continue the run saved in ``request.out``: epoch numbers and history carry on."""
    if dataset.n_features != trainer.model.input_size or dataset.n_classes != trainer.model.output_size:
        raise ConfigError(
            f"dataset {request.dataset!r} has {dataset.n_features} inputs and {dataset.n_classes} classes, "
            f"but the model {trainer.model} was built for {trainer.model.input_size} and "
            f"{trainer.model.output_size}"
        )
    training = dict(model_file.training) or saved_training(request, trainer)
    attach(trainer, training)
    return with_data(trainer, training, dataset, trainer.epochs_done)


def saved_training(request: RunRequest, trainer: Trainer) -> dict[str, Any]:
    """For a file saved without training options: take the command line's data options from now on."""
    return {"dataset": request.dataset, "seed": request.seed, "validation": request.validation}


def contradictions(request: RunRequest, model_file: ModelFile, trainer: Trainer) -> list[str]:
    """Options typed on the command line that disagree with the run being resumed."""
    saved = model_file.training
    model = trainer.model
    registry = default_registry()
    found: list[str] = []

    def differ(name: str, given: Any, stored: Any, flag: str | None = None) -> None:
        if name in request.explicit and stored is not None and given != stored:
            flag = flag or "--" + name.replace("_", "-")
            found.append(f"{flag} {_show(given)} (the file has {_show(stored)})")

    weighted = [layer for layer in model.layers if layer.parameter_shapes()]  # not dropout
    widths = [size for layer, size in zip(model.layers, model.sizes[1:], strict=True) if layer.parameter_shapes()]
    differ("layers", list(request.layers), widths[:-1])
    activations = [layer.activation for layer in weighted]
    if len(activations) > 1 and activations[0] is not None:
        stored = registry.spec_of("activations", activations[0])
        differ("activation", canonical_spec("activations", request.activation), stored)
    if activations[-1] is not None:
        stored = registry.spec_of("activations", activations[-1])
        differ("output_activation", canonical_spec("activations", request.output_activation), stored)
    differ("loss", canonical_spec("losses", request.loss), registry.spec_of("losses", model.loss))
    optimizer = registry.spec_of("optimizers", trainer.optimizer)
    name, options = parse_spec(request.optimizer or PLAIN_OPTIMIZER)
    if "lr" in options:
        options["learning_rate"] = options.pop("lr")
    typed = {"type": name, **options}
    differ("optimizer", typed, {key: optimizer.get(key) for key in typed})
    differ("learning_rate", request.learning_rate, optimizer.get("learning_rate"), "--lr")
    differ("batch_size", request.batch_size, optimizer.get("batch_size"))
    for option in ("dataset", "seed", "validation"):
        differ(option, getattr(request, option), saved.get(option))
    differ("augment", augmentation_specs(request.augment), saved.get("augment") or [])
    differ("schedule", schedule_spec(request.schedule, request.epochs), saved.get("schedule"))
    differ("dropout", request.dropout, saved.get("dropout") or 0.0)
    differ("input_dropout", request.input_dropout, saved.get("input_dropout") or 0.0)
    differ("keep", request.keep, saved.get("keep") or "last")
    differ("patience", request.patience, saved.get("patience"))
    differ("min_delta", request.min_delta, saved.get("min_delta") or 0.0)
    return found


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return format_spec(value)
    if isinstance(value, list):
        return ",".join(_show(item) for item in value) or "none"
    return str(value)
