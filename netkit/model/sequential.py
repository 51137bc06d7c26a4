"""The Python API's model: ``netkit.Sequential`` trains itself with ``fit``, as in Keras.

It is a :class:`netkit.model.network.Network` (so every tool that takes a model takes it) that also owns its
training run: the optimiser and its state, the shuffling generator and the history, built with the same
run semantics as ``netkit train`` (:mod:`netkit.training.run`). So ``nk.Sequential(..., seed=0)`` trained on the
same rows with the same options gives exactly the weights ``netkit train --seed 0`` gives, and a model
saved with :func:`netkit.save` and loaded again continues as ``--resume`` does.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from netkit.data.dataset import are_values, checked_targets
from netkit.errors import ConfigError, DatasetError
from netkit.io import model_format
from netkit.model import network as core
from netkit.model.arguments import sample_shape, shows_progress, whole_number
from netkit.model.assembly import config_input_shape, config_layers
from netkit.model.evaluation import evaluate
from netkit.model.sequential_state import restore, state_of
from netkit.model.summary import ModelSummary
from netkit.protocols import Layer, Loss, Optimizer
from netkit.registry import Registry
from netkit.training.defaults import DEFAULT_VALIDATION, PLAIN_OPTIMIZER, choose_recipe, hidden_activations
from netkit.training.history import TrainingHistory
from netkit.training.keepbest import set_keeping
from netkit.training.progress import ProgressBar, watched
from netkit.training.recipe import attach, augmentation_specs, schedule_spec
from netkit.training.resume import keeper_for
from netkit.training.run import (
    SHUFFLE_STREAM,
    WEIGHTS_STREAM,
    Checkpoint,
    build_optimizer,
    format_spec,
    merge_optimizer_options,
    recorded_options,
    seeded,
    split_for_run,
)
from netkit.training.trainer import Callback, History, Trainer

if TYPE_CHECKING:
    from netkit.model.trace import Trace

# How fit's own arguments are named in messages (netkit train names its flags instead).
FIT_ARGUMENTS = {"optimizer": "optimizer", "learning_rate": "learning_rate", "batch_size": "batch_size"}


class Sequential(core.Network):
    """``Sequential([Dense(16, "sigmoid"), Dense(10, "softmax")], loss="cross-entropy", input_shape=(1, 28, 28))``.

    ``input_shape`` is one sample's shape (``input_size=784`` says the same for flat rows); a dense layer on an
    image gets a ``flatten`` before it. Without either, as in Keras, the model is built by the first
    :meth:`fit` (or :meth:`build`) from the rows it is given: ``(n, features)`` rows make flat inputs,
    ``(n, height, width)`` images one channel, ``(n, channels, height, width)`` as they are.

    Layers, the loss and (in :meth:`fit`) the optimiser are plugin instances or specs such as
    ``"dense:units=16,activation=relu"``. ``seed`` drives every random choice, as ``netkit train --seed``:
    weights from ``[seed, 0]``, validation rows from ``[seed, 1]``, batch order from ``[seed, 2]``.
    """

    def __init__(
        self,
        layers: Sequence[Layer | str | Mapping[str, Any]],
        loss: Loss | str | Mapping[str, Any] = "cross-entropy",
        *,
        input_shape: int | Sequence[int] | None = None,
        input_size: int | None = None,
        seed: int = 0,
        registry: Registry | None = None,
        dtype: type[np.floating[Any]] = np.float32,
    ) -> None:
        self.seed = whole_number(seed, "seed", 0)
        if input_shape is not None and input_size is not None:
            raise ConfigError("give the model's input_shape or its input_size (for flat rows), not both")
        shape = input_shape if input_shape is not None else input_size
        # Until built: what the network is made of, kept for build() (None once built).
        self._unbuilt: tuple[Any, ...] | None = (list(layers), loss, registry, dtype)
        if shape is not None:
            self.build(shape)
        self.trainer: Trainer | None = None  # made by the first fit, or by netkit.load
        # Set by netkit.load for a file that holds its best epoch: the last epoch's, which a fit goes on from.
        self._resume_parameters: np.ndarray[Any, Any] | None = None
        self._recipe_fixed = False  # the schedule and augmentation are chosen (first fit, or a load)
        self.training: dict[str, Any] = {}  # the run's options, as netkit train saves them
        self._untrained_history = History()  # the history of a loaded file that holds no optimiser

    def build(self, input_shape: int | Sequence[int]) -> None:
        """Assemble the layers for samples of ``input_shape`` and draw the weights (from ``[seed, 0]``).

        Only a model made without an input size needs this, and :meth:`fit` calls it with its data's shape.
        """
        if self._unbuilt is None:
            raise ConfigError(f"model {self} is built already (input shape {self.input_shape})")
        layers, loss, registry, dtype = self._unbuilt
        super().__init__(input_shape, layers, loss, seeded(self.seed, WEIGHTS_STREAM), registry, dtype)
        self._unbuilt = None

    @property
    def built(self) -> bool:
        """Whether the model knows its input shape (and so has weights)."""
        return self._unbuilt is None

    def __getattr__(self, name: str) -> Any:
        # Only reached for what __init__ has not set: the network's parts, before the first fit builds them.
        if name.startswith("__") or self.__dict__.get("_unbuilt") is None:
            raise AttributeError(name)
        raise ConfigError(
            "this model has no input size yet, so no layers or weights: the first fit takes it from its data. "
            "Give input_shape= (or input_size=) to build it at once, or call model.build(shape)"
        )

    def __repr__(self) -> str:
        return super().__repr__() if self.built else "Sequential (not built yet: the first fit gives its input size)"

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        rng: np.random.Generator | None = None,
        registry: Registry | None = None,
        dtype: type[np.floating[Any]] = np.float32,
    ) -> Sequential:
        input_shape = config_input_shape(config)
        layers, loss = config_layers(config), config.get("loss", "cross-entropy")
        model = cls(layers, loss, input_shape=input_shape, registry=registry, dtype=dtype)
        if rng is not None:
            model.initialize(rng)
        return model

    @property
    def history(self) -> TrainingHistory:
        """Every epoch this model was trained for, across fits, saves and loads."""
        return TrainingHistory.of(self._history)

    @property
    def _history(self) -> History:
        return self.trainer.history if self.trainer is not None else self._untrained_history

    @property
    def optimizer(self) -> Optimizer | None:
        """The optimiser the first ``fit`` chose (with its state), or ``None`` before any training."""
        return self.trainer.optimizer if self.trainer is not None else None

    def fit(
        self,
        images: np.ndarray[Any, Any],
        labels: np.ndarray[Any, Any],
        epochs: int = 1,
        *,
        optimizer: Optimizer | str | Mapping[str, Any] | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        validation: float | int | None = None,
        validation_split: float | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool | None = None,
        verbose: int | str | None = None,
        checkpoint: str | Path | None = None,
        schedule: str | Mapping[str, Any] | None = None,
        augment: str | Sequence[Any] | None = None,
        keep: str | None = None,
        patience: int | None = None,
        min_delta: float = 0.0,
    ) -> TrainingHistory:
        """Train ``epochs`` more epochs on ``images`` ((n, *input_shape), or flat rows) and their class ``labels``.

        The first fit chooses the optimiser (default: the recipe :func:`~netkit.training.defaults.choose_recipe`
        picks) and the ``validation`` rows held out (a fraction below 1, or a count; ``validation_split`` is
        Keras' name for the fraction, though netkit holds out seeded random rows where Keras takes the last
        ones); later fits continue the same run and refuse settings that differ.
        ``progress`` draws a bar (default: only in a terminal or a notebook; Keras' ``verbose=0`` or ``1`` says
        the same); ``checkpoint`` saves the run to that file after every epoch. ``schedule`` (``"cosine"``,
        ``"exponential:decay=0.7"``, ...) and ``augment`` (``"shift:pixels=2,rotate:degrees=10"``) are chosen by
        the first fit too, as ``netkit train --schedule/--augment`` would (a cosine spans this fit's
        ``epochs``). ``keep="best"`` (or a ``patience``: stop after that many epochs without a validation loss
        lower by ``min_delta``) leaves the model at the epoch with the lowest validation loss, as ``netkit train
        --keep best`` does; the default keeps the last epoch. Returns this fit's epochs; :attr:`history` holds
        them all.
        """
        epochs = whole_number(epochs, "epochs", 1)
        progress = shows_progress(verbose, progress)
        if validation_split is not None:
            if validation is not None:
                raise ConfigError("validation and validation_split say the same thing: give one of them")
            validation = validation_split
        if not self.built:
            self.build(sample_shape(images))
        images = self.check_input(images)
        try:
            targets = checked_targets(labels, images.shape[0], self.output_size, self.dtype)
        except DatasetError:  # class labels out of range: first say so if this run regresses onto values
            self._check_target_kind(False)
            raise
        self._check_target_kind(are_values(targets))
        if self.trainer is None and not self._recipe_fixed:  # the first fit: netkit train's defaults
            optimizer, learning_rate, schedule = choose_recipe(
                optimizer, learning_rate, schedule, hidden_activations(self)
            )
        held_out = self._validation_for(validation)
        trainer = self._trainer_for(optimizer, learning_rate, batch_size)
        self._set_recipe(trainer, schedule, augment, epochs)
        set_keeping(self.training, trainer.epochs_done, keep, patience, min_delta, held_out)
        # Before the swap below: after a keep-best fit or load the model holds the best epoch (the keeper copies it).
        keeper = keeper_for(self.training, trainer, self.parameters)
        if self._resume_parameters is not None:  # the model holds its best epoch: go on from its last
            np.copyto(self.parameters, self._resume_parameters)
            self._resume_parameters = None
        train_images, train_labels, pair = split_for_run(images, targets, held_out, self.seed)
        attached = [keeper, *callbacks] if keeper is not None else list(callbacks)
        if checkpoint is not None:
            path = Path(checkpoint)
            attached.append(Checkpoint(path, self.training, model_format(path), keeper))
        if progress or (progress is None and watched(sys.stdout)):
            attached.append(ProgressBar())
        epochs_before, iterations_before = trainer.epochs_done, len(trainer.history.iteration_loss)
        trainer.fit(train_images, train_labels, epochs, pair, attached)
        self.training["held_epoch"] = trainer.epochs_done
        if keeper is not None and keeper.best_parameters is not None and keeper.best_epoch != trainer.epochs_done:
            self._resume_parameters = self.parameters.copy()
            keeper.restore(self)
            self.training["held_epoch"] = keeper.best_epoch
        return TrainingHistory.of(trainer.history, epochs_before, iterations_before)

    def _check_target_kind(self, values: bool) -> None:
        """The first fit records whether the model regresses onto values; later fits must agree."""
        if self.trainer is None and not self._recipe_fixed:
            self.training.pop("targets", None)
            if values:
                self.training["targets"] = "values"
        elif values != (self.training.get("targets") == "values"):
            kind = "float values" if self.training.get("targets") == "values" else "class labels"
            raise ConfigError(f"this model was fitted on {kind}; fit continues that run, so it needs {kind} again")

    def predict(self, x: np.ndarray[Any, Any], *, verbose: int | str | None = None) -> Any:
        """The most likely class of each row; for a model fitted on float values, its outputs (rows of values).
        ``verbose`` is taken as Keras takes it; netkit draws nothing while it predicts."""
        shows_progress(verbose, None)
        if self.training.get("targets") == "values":
            return self.predict_proba(x)
        return super().predict(x)

    def _trainer_for(
        self,
        optimizer: Optimizer | str | Mapping[str, Any] | None,
        learning_rate: float | None,
        batch_size: int | None,
    ) -> Trainer:
        if self.trainer is None:
            spec = merge_optimizer_options(
                optimizer if optimizer is not None else PLAIN_OPTIMIZER,
                learning_rate,
                batch_size,
                FIT_ARGUMENTS,
                self.registry,
            )
            chosen = build_optimizer(spec, self.registry)
            history = self._untrained_history
            self.trainer = Trainer(self, chosen, seeded(self.seed, SHUFFLE_STREAM), History(*_copied(history)))
            self.training = {
                **self.training,
                **recorded_options(self, self.seed, self.training.get("validation", 0), chosen),
            }
            return self.trainer
        if optimizer is not None or learning_rate is not None or batch_size is not None:
            self._check_same_optimizer(optimizer, learning_rate, batch_size)
        return self.trainer

    def _set_recipe(
        self,
        trainer: Trainer,
        schedule: str | Mapping[str, Any] | None,
        augment: str | Sequence[Any] | None,
        epochs: int,
    ) -> None:
        """The first fit records the schedule and augmentation; later fits keep them and refuse others."""
        asked = {
            "schedule": schedule_spec(schedule, epochs, self.registry),
            "augment": augmentation_specs(augment, self.registry),
        }
        if trainer.epochs_done == 0 and not self._recipe_fixed:
            self.training.update(asked)
            attach(trainer, self.training, self.registry)
        else:
            for key, given in (("schedule", schedule), ("augment", augment)):
                recorded = self.training.get(key) or ([] if key == "augment" else None)
                if given is not None and asked[key] != recorded:
                    raise ConfigError(
                        f"this run trains with {key} {recorded or 'none'!r}; fit continues it, so it cannot switch "
                        f"to {asked[key]!r}. Build a new model to train another way"
                    )
        self._recipe_fixed = True

    def _check_same_optimizer(
        self, optimizer: Optimizer | str | Mapping[str, Any] | None, learning_rate: float | None, batch_size: int | None
    ) -> None:
        assert self.trainer is not None
        current = self.registry.spec_of("optimizers", self.trainer.optimizer)
        asked = merge_optimizer_options(
            optimizer if optimizer is not None else current["type"],
            learning_rate,
            batch_size,
            FIT_ARGUMENTS,
            self.registry,
        )
        if any(current.get(key) != value for key, value in asked.items()):
            raise ConfigError(
                f"this model already trains with {format_spec(current)}; fit continues that run, so it cannot "
                f"switch to {format_spec(asked)}. Build a new model to train another way"
            )

    def _validation_for(self, validation: float | int | None) -> float | int:
        recorded = self.training.get("validation")
        if validation is None:
            if self.trainer is None and recorded is None:
                validation = DEFAULT_VALIDATION  # the first fit: netkit train's default
            else:
                return recorded or 0
        if isinstance(validation, bool) or not isinstance(validation, int | float) or validation < 0:
            raise ConfigError(f"validation must be a fraction below 1 or a row count. Received: {validation!r}")
        if self.trainer is not None and recorded is not None and validation != recorded:
            raise ConfigError(
                f"this run holds out validation={recorded!r}; fit continues it, so validation={validation!r} "
                "would change which rows it learns from"
            )
        self.training["validation"] = validation
        return validation

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        """Pickled (or deep-copied) as its config, arrays and run, so the layers' views are rebuilt on load."""
        return _restore, (state_of(self),)

    def evaluate(
        self, images: np.ndarray[Any, Any], labels: np.ndarray[Any, Any], *, verbose: int | str | None = None
    ) -> Any:
        """Accuracy, loss, confusion matrix, per-class precision and recall on labelled rows (an
        :class:`~netkit.Evaluation`, which unpacks as Keras' ``loss, accuracy = model.evaluate(x, y)``); for
        float values, the loss, mean absolute error and R² (a :class:`RegressionEvaluation`). ``verbose`` is
        taken as Keras takes it; netkit draws nothing while it scores."""
        shows_progress(verbose, None)
        return evaluate(self, images, labels)

    def save(self, path: str | Path, *, format: str | None = None) -> Path:
        """Write the model and its training run to ``path``, as :func:`netkit.save` does (``.h5`` or ``.pkl``)."""
        from netkit.io.files import save

        return save(self, path, format=format)

    def trace(self, x: np.ndarray[Any, Any], label: Any, unit: Any = None, learning_rate: float | None = None) -> Trace:
        """One learning step with every number kept (see :meth:`netkit.model.network.Network.trace`).

        The update uses this model's optimiser (its learning rate and state, as the next step of ``fit``
        would, on a copy) once it has one, or plain gradient descent at ``learning_rate`` when that is given.
        """
        from netkit.model.trace import trace_step

        return trace_step(self, x, label, unit, learning_rate, self.optimizer)

    def summary(self) -> ModelSummary:
        """The layer table of ``netkit inspect``: print it, or let a notebook show it as a table."""
        optimizer = self.optimizer
        text = format_spec(self.registry.spec_of("optimizers", optimizer)) if optimizer is not None else None
        return ModelSummary.of(self, self._history, text)


def _restore(state: dict[str, Any]) -> Sequential:
    """The model a pickle holds (the name pickles written by earlier versions refer to)."""
    return restore(state)


def _copied(history: History) -> tuple[list[Any], list[float]]:
    return list(history.epochs), list(history.iteration_loss)
