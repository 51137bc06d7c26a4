"""Finding and opening model files for the commands: the shipped model, MODEL vs IMAGE arguments."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from netkit.errors import ModelFileError
from netkit.io import MODEL_EXTENSIONS, ModelFile, load_model
from netkit.pretrained import pretrained_model_path

__all__ = ["is_model_path", "open_model", "pretrained_model_path", "shipped_model_note", "split_model_and_images"]


def is_model_path(argument: str) -> bool:
    """Whether an argument names a model file, judged by its extension as ``predict`` documents."""
    return Path(argument).suffix.lower() in MODEL_EXTENSIONS


def split_model_and_images(arguments: Sequence[str], model_option: str | None) -> tuple[Path, list[str]]:
    """``predict [MODEL] IMAGE...``: the model file (given, ``--model``, or shipped) and the images."""
    models = [argument for argument in arguments if is_model_path(argument)]
    images = [argument for argument in arguments if not is_model_path(argument)]
    if model_option is not None:
        models.insert(0, model_option)
    if len(models) > 1:
        raise ModelFileError(f"more than one model given: {', '.join(models)}")
    return (Path(models[0]) if models else pretrained_model_path()), images


def open_model(path: Path | str | None) -> tuple[Path, ModelFile]:
    """Load ``path`` (or the shipped model when ``None``) with an error that names the file."""
    resolved = pretrained_model_path() if path is None else Path(path)
    return resolved, load_model(resolved)


def shipped_model_note(command: str) -> str:
    """The first line of ``evaluate``/``predict`` run without a model: whose model they score."""
    return (
        "netkit: using the shipped pre-trained model (784-16-16-10 sigmoid, trained on MNIST), not one of "
        f"yours; name your own first: netkit {command}"
    )
