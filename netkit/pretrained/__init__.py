"""The pre-trained MNIST model that ships inside the package (the README gives the command that made it)."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from netkit.errors import ModelFileError

PRETRAINED_NAME = "mnist-784-16-16-10.h5"


def pretrained_model_path() -> Path:
    """The shipped 784-16-16-10 sigmoid model trained on MNIST, or a clear error when it is absent."""
    resource = importlib.resources.files(__name__) / PRETRAINED_NAME
    path = Path(str(resource))
    if not resource.is_file():
        raise ModelFileError(f"no pre-trained model shipped (looked for {path}); pass a MODEL file")
    return path
