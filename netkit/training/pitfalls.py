"""Set-ups that cannot learn, spotted early and explained: what is wrong and what to do instead.

Two kinds, both raised as :class:`LearningWarning` (a ``UserWarning``) by :class:`~netkit.training.trainer.Trainer`:

- before training, from the model alone (:func:`setup_problems`): an output activation that does not fit the
  loss (cross-entropy expects probabilities that sum to 1, which sigmoid, ReLU, tanh and identity outputs are
  not: the loss can then fall towards 0 while the network learns nothing) and softmax in a hidden layer;
- after each epoch, from the history (:func:`history_problems`): validation accuracy at chance level after
  the first epoch, and a training loss that grew three epochs running.

``netkit train`` refuses the first (a usage error: the combination is simply wrong) and prints the others.
The original program's set-up (sigmoid output, mse, stochastic gradient descent) raises none of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import attrs

from netkit.model.network import Network

# Activations that are known not to give a probability distribution over the classes.
NOT_PROBABILITIES = frozenset({"sigmoid", "relu", "leaky-relu", "tanh", "identity"})
# Validation accuracy below this multiple of chance (1 / classes) after an epoch counts as "not learning".
CHANCE_MARGIN = 1.5
GROWING_EPOCHS = 3


class LearningWarning(UserWarning):
    """A training set-up or run that is unlikely to learn; the message says what to change."""


@attrs.frozen
class Problem:
    message: str
    wrong: bool  # a combination that cannot work (the CLI refuses it), not merely a bad sign


def _name(registry: Any, group: str, plugin: Any) -> str | None:
    if plugin is None:
        return None
    try:
        return str(registry.name_of(group, plugin))
    except Exception:  # an unregistered plugin: nothing to say about it
        return None


def setup_problems(model: Network) -> list[Problem]:
    """What is wrong with the model's make-up, before any training."""
    activations = [layer.activation for layer in model.layers]
    names = [_name(model.registry, "activations", activation) for activation in activations if activation is not None]
    if not names:
        return []
    return problems_of(names[:-1], names[-1], _name(model.registry, "losses", model.loss))


def problems_of(hidden: Sequence[str | None], output: str | None, loss: str | None) -> list[Problem]:
    """The same judgement from plugin names alone: hidden and output activations, and the loss."""
    problems: list[Problem] = []
    if loss == "cross-entropy" and output in NOT_PROBABILITIES:
        problems.append(
            Problem(
                f"cross-entropy needs output probabilities that sum to 1, but the output activation is {output}: "
                "the loss can fall while the network learns nothing. Use the softmax output activation "
                "(--output-activation softmax), or the mse loss with a sigmoid output (--loss mse)",
                wrong=True,
            )
        )
    softmax_layers = [index for index, name in enumerate(hidden, 1) if name == "softmax"]
    if softmax_layers:
        problems.append(
            Problem(
                f"softmax in hidden layer{'s' if len(softmax_layers) > 1 else ''} "
                f"{', '.join(map(str, softmax_layers))}: it squeezes the layer's units into "
                "one distribution, so they compete instead of each detecting a feature, and learning stalls. "
                "Use sigmoid, tanh or relu in hidden layers (--activation) and softmax only at the output",
                wrong=False,
            )
        )
    return problems


def history_problems(epochs: Sequence[Any], classes: int) -> list[str]:
    """Warnings due after the last epoch of ``epochs`` (history records): each fires once, when it arises."""
    if not epochs:
        return []
    last = epochs[-1]
    found = []
    chance = 1.0 / max(classes, 1)
    if last.epoch == 1 and last.val_accuracy is not None and classes > 1 and last.val_accuracy < CHANCE_MARGIN * chance:
        found.append(
            f"validation accuracy is {100 * last.val_accuracy:.2f}% after epoch {last.epoch}, about chance "
            f"({100 * chance:.0f}% for {classes} classes): the network is not learning. Try a smaller learning "
            "rate (--lr), or check that the output activation fits the loss"
        )
    recent = [record.train_loss for record in epochs[-(GROWING_EPOCHS + 1) :]]
    rising = len(recent) == GROWING_EPOCHS + 1 and all(b > a for a, b in itertools.pairwise(recent))
    previously = epochs[:-1][-(GROWING_EPOCHS + 1) :]
    was_rising = len(previously) == GROWING_EPOCHS + 1 and all(
        b.train_loss > a.train_loss for a, b in itertools.pairwise(previously)
    )
    if rising and not was_rising:
        found.append(
            f"the training loss grew for {GROWING_EPOCHS} epochs in a row (to {recent[-1]:.4g} at epoch "
            f"{last.epoch}): the steps are too large. Try a smaller learning rate (--lr) or a schedule that "
            "lowers it (--schedule)"
        )
    return found
