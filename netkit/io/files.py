"""``nk.save`` and ``nk.load``: a model with its whole training run (history, optimiser state, shuffling,
options), so that training continues after a load exactly as ``netkit train --resume`` continues a file."""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import numpy as np

from netkit.io import ModelFile, load_model, save_model
from netkit.io.modelfile import copy_history
from netkit.model.arguments import whole_number
from netkit.model.network import Network
from netkit.model.sequential import Sequential
from netkit.pretrained import DEFAULT_SHIPPED, shipped_model_path
from netkit.training.recipe import attach


def save(model: Network, path: str | os.PathLike[str], *, format: str | None = None) -> Path:
    """Write ``model`` to ``path`` (``.h5`` or ``.pkl``, or ``format="hdf5"``/``"pickle"``), atomically.

    A :class:`netkit.Sequential` keeps its training run in the file; ``netkit inspect`` and ``netkit train
    --resume`` read it like one of their own.
    """
    return save_model(to_model_file(model), path, format=format)


def load(path: str | os.PathLike[str]) -> Sequential:
    """The model in ``path`` (written by :func:`save` or ``netkit train``), ready to ``fit`` further."""
    return from_model_file(load_model(path))


def load_shipped(name: str = DEFAULT_SHIPPED) -> Sequential:
    """A model shipped inside netkit, by name: ``"mlp"`` (784-16-16-10 sigmoid, the default) or ``"cnn"`` (a small
    convolutional network). An unknown name is a :class:`netkit.ModelFileError` listing the shipped ones."""
    return load(shipped_model_path(name))


def to_model_file(model: Network) -> ModelFile:
    """What :func:`save` writes for ``model``: with its training run when it has one."""
    if isinstance(model, Sequential) and model.trainer is not None:
        model_file = ModelFile.from_trainer(model.trainer, model.training)
        if model._resume_parameters is not None:  # loaded from a keep-best file and not trained since
            model_file.resume_parameters = model._resume_parameters.copy()
        return model_file
    if isinstance(model, Sequential):
        return ModelFile(model, history=copy_history(model._untrained_history), training=dict(model.training))
    return ModelFile(model)


def from_model_file(model_file: ModelFile) -> Sequential:
    """A :class:`netkit.Sequential` that continues the run ``model_file`` holds."""
    saved = model_file.model
    model = Sequential.from_config(saved.get_config(), registry=saved.registry, dtype=saved.dtype.type)
    np.copyto(model.parameters, saved.parameters)
    model.seed = whole_number(model_file.training.get("seed", 0), "the saved seed", 0)
    model.training = dict(model_file.training)
    if model_file.optimizer is not None:
        model.trainer = attrs.evolve(model_file, model=model).to_trainer()  # takes the last epoch's parameters
        attach(model.trainer, model.training, model.registry)
        model._recipe_fixed = True
        if model_file.resume_parameters is not None:  # the file holds its best epoch: so does the model
            model._resume_parameters = model.parameters.copy()
            np.copyto(model.parameters, saved.parameters)
    else:
        model._untrained_history = copy_history(model_file.history)
    return model
