"""The pre-trained MNIST models that ship inside the package, by name (the README gives the commands that made them).

``mlp`` is the original program's 784-16-16-10 sigmoid network and the default everywhere a model is optional;
``cnn`` is a small convolutional network that reads handwriting from outside MNIST far better. Commands and
:func:`netkit.load_shipped` find both through :func:`shipped_model_path`, and a model argument that is neither
a file nor one of these names is an error listing them (:func:`resolve_model`).
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from netkit.errors import ModelFileError

# name -> (file inside this package, what it is)
SHIPPED_MODELS: dict[str, tuple[str, str]] = {
    "mlp": ("mnist-784-16-16-10.h5", "784-16-16-10 sigmoid, the original program's network (the default)"),
    "cnn": ("mnist-cnn.h5", "a small convolutional network: conv 8@5x5, pool, conv 16@5x5, pool, 64"),
}
DEFAULT_SHIPPED = "mlp"
# Other names for a shipped model: "shipped" is the default one, as `netkit finetune shipped ...` says.
SHIPPED_ALIASES = {"shipped": DEFAULT_SHIPPED}
PRETRAINED_NAME = SHIPPED_MODELS[DEFAULT_SHIPPED][0]


def shipped_names() -> str:
    """The shipped models' names as a message lists them: ``mlp (the default), cnn``."""
    return ", ".join(f"{name} (the default)" if name == DEFAULT_SHIPPED else name for name in SHIPPED_MODELS)


def shipped_model_path(name: str = DEFAULT_SHIPPED) -> Path:
    """The file of the shipped model ``name``, or a clear error for an unknown name or a missing file."""
    name = SHIPPED_ALIASES.get(name, name)
    if name not in SHIPPED_MODELS:
        raise ModelFileError(f"no shipped model named {name!r}; the shipped models are {shipped_names()}")
    resource = importlib.resources.files(__name__) / SHIPPED_MODELS[name][0]
    path = Path(str(resource))
    if not resource.is_file():
        raise ModelFileError(f"the shipped model {name!r} is missing from this installation (looked for {path})")
    return path


def pretrained_model_path() -> Path:
    """The shipped 784-16-16-10 sigmoid model trained on MNIST (the default), or a clear error when it is absent."""
    return shipped_model_path(DEFAULT_SHIPPED)


def resolve_model(model: str | os.PathLike[str] | None) -> Path:
    """A model argument as commands take it: an existing file, else a shipped model's name, else an error.

    ``None`` is the default shipped model. A file wins over a shipped name, so a file called ``cnn`` in the
    working folder is read as that file.
    """
    if model is None:
        return pretrained_model_path()
    path = Path(model)
    if path.exists():
        return path
    if str(model) in SHIPPED_MODELS or str(model) in SHIPPED_ALIASES:
        return shipped_model_path(str(model))
    raise ModelFileError(
        f"cannot load {model}: no such file, nor a shipped model of that name (shipped: {shipped_names()})"
    )
