"""The defaults every run starts from, whether ``netkit train``, ``model.fit``, the scikit-learn estimator or
the playground starts it: the default recipe and the validation rows held out (:mod:`netkit.training.run`
holds the rest of the run semantics)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netkit.errors import PluginError
from netkit.model.network import Network

# The default recipe, for a run that names none of optimizer, learning rate and schedule, follows one rule: a
# network with saturating hidden units (sigmoid or tanh, as in the original program) trains with SGD with
# momentum at 0.1; every other network (ReLU units, convolutions, no hidden layer) with Adam at 0.003. Both
# take batches of 32 and multiply the rate by 0.7 after every epoch. Measured by bench/recipes.py on MNIST
# and Fashion-MNIST, three seeds (the table is in docs/recipes.md): Adam is the better recipe on every ReLU,
# dropout and conv net there, but stays below 95% on the seed net in 5 epochs, where momentum reaches it. A
# cosine did as well as the decay, but its shape depends on the epochs asked for, so a resumed run would not
# equal one trained in one go. Naming any of the three leaves the others at their plain defaults: mini-batch,
# the optimiser's own rate, a constant rate.
SATURATING_ACTIVATIONS = frozenset({"sigmoid", "tanh"})
RECIPE_OPTIMIZER = "adam"
RECIPE_LEARNING_RATE = 0.003
SATURATING_OPTIMIZER = "momentum"
SATURATING_LEARNING_RATE = 0.1
RECIPE_SCHEDULE = "exponential:decay=0.7"
PLAIN_OPTIMIZER = "mini-batch"
# Validation rows held out of the training set (a fraction); keep-best is on whenever there are some.
DEFAULT_VALIDATION = 0.1


def choose_recipe(
    optimizer: Any | None,
    learning_rate: float | None,
    schedule: Any | None,
    hidden_activations: Iterable[str | None],
) -> tuple[Any, float | None, Any | None]:
    """``(optimizer, learning rate, schedule)`` with the defaults filled in: the default recipe when none is
    named, chosen by the names of the network's ``hidden_activations`` (see :data:`SATURATING_ACTIVATIONS`)."""
    if optimizer is None and learning_rate is None and schedule is None:
        if SATURATING_ACTIVATIONS.intersection(name for name in hidden_activations if name is not None):
            return SATURATING_OPTIMIZER, SATURATING_LEARNING_RATE, RECIPE_SCHEDULE
        return RECIPE_OPTIMIZER, RECIPE_LEARNING_RATE, RECIPE_SCHEDULE
    return (PLAIN_OPTIMIZER if optimizer is None else optimizer), learning_rate, schedule


def hidden_activations(network: Network) -> list[str | None]:
    """The activation names of every layer but the output (``None`` for layers without one, or unregistered)."""
    names: list[str | None] = []
    for layer in network.layers[:-1]:
        activation = layer.activation
        try:
            names.append(None if activation is None else network.registry.name_of("activations", activation))
        except PluginError:
            names.append(None)
    return names
