"""Set-ups that cannot learn, spotted early and explained: what is wrong and what to do instead.

Two kinds, both raised as :class:`LearningWarning` (a :class:`~netkit.errors.NetkitWarning`) by
:class:`~netkit.training.trainer.Trainer`:

- before training, from the model alone (:func:`setup_problems`): an output activation that does not fit the
  loss (cross-entropy expects probabilities that sum to 1, which sigmoid, ReLU, tanh and identity outputs are
  not: the loss can then fall towards 0 while the network learns nothing) and softmax in a hidden layer;
- after each epoch, from the history (:func:`history_problems`): a run that diverges (its training loss
  above its starting value, or validation accuracy falling back to chance) at whatever epoch; validation
  accuracy still at chance while the loss has not grown (too slow: a larger rate or more epochs); and a
  training loss that grew three epochs running.

``netkit train`` refuses the first (a usage error: the combination is simply wrong) and prints the others.
The original program's set-up (sigmoid output, mse, stochastic gradient descent) raises none of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import attrs

from netkit.errors import NetkitWarning
from netkit.model.network import Network

# Activations that are known not to give a probability distribution over the classes.
NOT_PROBABILITIES = frozenset({"sigmoid", "relu", "leaky-relu", "tanh", "identity"})
# Validation accuracy below this multiple of chance (1 / classes) after an epoch counts as "not learning".
CHANCE_MARGIN = 1.5
GROWING_EPOCHS = 3


class LearningWarning(NetkitWarning):
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


def history_problems(epochs: Sequence[Any], classes: int, starting_loss: float | None = None) -> list[str]:
    """Warnings due after the last epoch of ``epochs`` (history records), each once, at the epoch it arises.

    ``starting_loss`` is the run's first training loss, before any step: a loss above it means the steps are
    too large (the run diverges), whenever it happens. So does validation accuracy falling back to chance.
    Accuracy at chance with a loss still below its start means the network has barely begun to learn
    (full-batch takes one step an epoch): the advice is then the opposite, a larger rate or more epochs.
    """
    if not epochs:
        return []
    found = []
    diverging = _divergence(epochs, classes, starting_loss)
    if diverging is not None:
        if _divergence(epochs[:-1], classes, starting_loss) is None:
            found.append(diverging)
        return found  # one warning about the steps at a time: the growing loss below says the same
    slow = _slow_start(epochs, classes, starting_loss)
    if slow is not None and (len(epochs) == 1 or _slow_start(epochs[:-1], classes, starting_loss) is None):
        found.append(slow)
    recent = [record.train_loss for record in epochs[-(GROWING_EPOCHS + 1) :]]
    rising = len(recent) == GROWING_EPOCHS + 1 and all(b > a for a, b in itertools.pairwise(recent))
    previously = epochs[:-1][-(GROWING_EPOCHS + 1) :]
    was_rising = len(previously) == GROWING_EPOCHS + 1 and all(
        b.train_loss > a.train_loss for a, b in itertools.pairwise(previously)
    )
    if rising and not was_rising:
        found.append(
            f"the training loss grew for {GROWING_EPOCHS} epochs in a row (to {recent[-1]:.4g} at epoch "
            f"{epochs[-1].epoch}): the steps are too large. Try a smaller learning rate (--lr) or a schedule that "
            "lowers it (--schedule)"
        )
    return found


def _at_chance(record: Any, classes: int) -> bool:
    accuracy = record.val_accuracy
    return accuracy is not None and classes > 1 and accuracy < CHANCE_MARGIN / classes


def _chance_text(record: Any, classes: int) -> str:
    return (
        f"validation accuracy is {100 * record.val_accuracy:.2f}% after epoch {record.epoch}, about chance "
        f"({100 / classes:.0f}% for {classes} classes)"
    )


def _divergence(epochs: Sequence[Any], classes: int, starting_loss: float | None) -> str | None:
    """Why the last epoch shows the run diverging (its loss above the start, accuracy fallen to chance), or None."""
    if not epochs:
        return None
    last = epochs[-1]
    reasons = []
    if starting_loss is not None and last.train_loss > starting_loss:
        reasons.append(
            f"the training loss rose to {last.train_loss:.4g} at epoch {last.epoch}, "
            f"above its starting {starting_loss:.4g}"
        )
    if _at_chance(last, classes) and any(
        not _at_chance(record, classes) for record in epochs[:-1] if record.val_accuracy is not None
    ):
        reasons.append(
            f"validation accuracy fell to {100 * last.val_accuracy:.2f}% at epoch {last.epoch}, "
            f"about chance ({100 / classes:.0f}% for {classes} classes)"
        )
    if not reasons:
        return None
    return f"training diverges: {' and '.join(reasons)}. The steps are too large: try a smaller learning rate (--lr)"


def _slow_start(epochs: Sequence[Any], classes: int, starting_loss: float | None) -> str | None:
    """Advice for validation accuracy still at chance while the loss is not above its start, or None."""
    last = epochs[-1]
    if not _at_chance(last, classes):
        return None
    if starting_loss is None:  # no start to judge by: both directions
        return (
            f"{_chance_text(last, classes)}: the network is not learning. If the loss is falling slowly, try a "
            "larger learning rate (--lr) or more epochs; if it grew, a smaller one; check too that the output "
            "activation fits the loss"
        )
    return (
        f"{_chance_text(last, classes)}: the network has barely started to learn (training loss "
        f"{starting_loss:.4g} at the start, {last.train_loss:.4g} now). Try a larger learning rate (--lr) or more "
        "epochs (--epochs); full-batch gradient descent takes only one step an epoch"
    )
