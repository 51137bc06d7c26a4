"""Finding and opening model files for the commands: files or shipped models by name, MODEL vs IMAGE arguments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from netkit.data.images import SIDE
from netkit.errors import ConfigError, ModelFileError
from netkit.io import MODEL_EXTENSIONS, ModelFile, load_model
from netkit.model.network import Network
from netkit.pretrained import pretrained_model_path, resolve_model, shipped_names

__all__ = [
    "check_takes_images",
    "is_model_path",
    "model_option",
    "one_model",
    "open_model",
    "pretrained_model_path",
    "resolve_model",
    "shipped_model_note",
    "split_model_and_images",
]

F = TypeVar("F", bound=Callable[..., Any])
MODEL_HELP = f"Model file, or the name of a shipped model: {shipped_names()}."


def model_option(help_text: str = MODEL_HELP) -> Callable[[F], F]:
    """``--model PATH|NAME``: a model file or a shipped model's name (``--model cnn``)."""
    return click.option("--model", "model_option", default=None, metavar="PATH|NAME", help=help_text)


def is_model_path(argument: str) -> bool:
    """Whether an argument names a model file, judged by its extension as ``predict`` documents."""
    return Path(argument).suffix.lower() in MODEL_EXTENSIONS


def one_model(argument: str | Path | None, option: str | None) -> str | Path | None:
    """The model of a command that takes MODEL and ``--model``: one of them (or neither, the default)."""
    if argument is not None and option is not None:
        raise click.UsageError(f"give the model once: MODEL ({argument}) or --model ({option}), not both")
    return option if option is not None else argument


def split_model_and_images(arguments: Sequence[str], model_option: str | None) -> tuple[Path, list[str]]:
    """``predict [MODEL] IMAGE...``: the model file (given, ``--model``, or shipped) and the images."""
    models = [argument for argument in arguments if is_model_path(argument)]
    images = [argument for argument in arguments if not is_model_path(argument)]
    if model_option is not None:
        models.insert(0, model_option)
    if len(models) > 1:
        raise ModelFileError(f"more than one model given: {', '.join(models)}")
    return resolve_model(models[0] if models else None), images


def open_model(model: Path | str | None) -> tuple[Path, ModelFile]:
    """Load ``model`` (a file, a shipped model's name, or the default shipped model when ``None``) with an error
    that names it."""
    resolved = resolve_model(model)
    return resolved, load_model(resolved)


def check_takes_images(path: Path, network: Network) -> None:
    """For a command that feeds the model a picture: a model that takes no 28x28 image is a one-line error."""
    if network.input_size != SIDE * SIDE:
        raise ConfigError(f"{path} expects {network.input_size} inputs, not a {SIDE}x{SIDE} image ({network})")


def shipped_model_note(command: str) -> str:
    """The first line of ``evaluate``/``predict`` run without a model: whose model they score."""
    return (
        "netkit: using the shipped pre-trained model (784-16-16-10 sigmoid, trained on MNIST), not one of "
        f"yours; name your own first: netkit {command}"
    )
