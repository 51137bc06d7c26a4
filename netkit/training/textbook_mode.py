"""Training with the textbook forms only: a trainer whose plugins are all swapped for their textbook twins.

The twin trainer starts from the same weights, optimiser state, shuffling generator (shared, not copied)
and history, so it
continues exactly the run the fast one would have made (to rounding), just slower and readable: a learner
can step into ``netkit.plugins.textbook`` in a debugger and watch it learn. Files it saves are the same as
the fast trainer's (a twin is saved under its fast plugin's name) and load as fast plugins.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from netkit.model.network import Network
from netkit.training.trainer import History, Trainer


def textbook_trainer(trainer: Trainer) -> Trainer:
    """``trainer`` rebuilt from textbook twins (plugins without a twin are kept as they are)."""
    model = trainer.model
    registry = model.registry.textbook_form()
    twin_model = Network.from_config(model.get_config(), registry=registry)
    # Twins keep every parameter in the plain row-major order a file uses, which a fast layer may not.
    twin_model.parameters[...] = twin_model.from_file_order(model.to_file_order(model.parameters))
    optimizer = registry.create("optimizers", model.registry.spec_of("optimizers", trainer.optimizer))
    history = History(list(trainer.history.epochs), list(trainer.history.iteration_loss))
    # The run's recipe (augmentation, learning-rate schedule) is the same for both forms.
    twin = Trainer(twin_model, optimizer, trainer.rng, history, augment=trainer.augment, schedule=trainer.schedule)
    state: dict[str, Any] = {
        key: twin_model.from_file_order(model.to_file_order(value))
        if isinstance(value, np.ndarray) and value.shape == model.parameters.shape
        else value
        for key, value in trainer.optimizer.state().items()
    }
    if state:
        optimizer.load_state(state)
    return twin
