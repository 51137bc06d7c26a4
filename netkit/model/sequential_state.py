"""How a :class:`netkit.Sequential` is pickled or deep-copied: its config, arrays and training run.

The layers hold views into one parameter vector, so the model is rebuilt from its config and its arrays are
copied in, rather than pickled attribute by attribute; the run (optimiser state, shuffling generator,
history) comes back with it, so a copy continues training exactly as the original would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from netkit.training.recipe import attach
from netkit.training.run import build_optimizer
from netkit.training.trainer import History, Trainer

if TYPE_CHECKING:
    from netkit.model.sequential import Sequential


def state_of(model: Sequential) -> dict[str, Any]:
    """Everything :func:`restore` needs, as builtins and arrays."""
    state: dict[str, Any] = {
        "config": model.get_config(),
        "dtype": model.dtype.name,
        "parameters": model.parameters.copy(),
        "seed": model.seed,
        "training": dict(model.training),
        "history": model._history.to_dict(),
        "trainer": None,
    }
    if model.trainer is not None:
        state["trainer"] = {
            "optimizer": model.registry.spec_of("optimizers", model.trainer.optimizer),
            "optimizer_state": model.trainer.optimizer.state(),
            "rng_state": model.trainer.rng.bit_generator.state,
        }
        resume = model._resume_parameters
        state["resume_parameters"] = None if resume is None else resume.copy()
    return state


def restore(state: dict[str, Any]) -> Sequential:
    """The model :func:`state_of` described, with its run."""
    from netkit.model.sequential import Sequential

    model = Sequential.from_config(state["config"], dtype=np.dtype(state["dtype"]).type)
    np.copyto(model.parameters, state["parameters"])
    model.seed, model.training = state["seed"], state["training"]
    history = History.from_dict(state["history"])
    run = state["trainer"]
    if run is None:
        model._untrained_history = history
        return model
    optimizer = build_optimizer(run["optimizer"])
    rng = np.random.Generator(getattr(np.random, run["rng_state"]["bit_generator"])())
    rng.bit_generator.state = run["rng_state"]
    model.trainer = Trainer(model, optimizer, rng, history)
    optimizer.load_state(run["optimizer_state"])
    attach(model.trainer, model.training, model.registry)
    model._recipe_fixed = True
    if state.get("resume_parameters") is not None:
        model._resume_parameters = np.array(state["resume_parameters"])
    return model
