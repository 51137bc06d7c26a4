"""``ModelFile``: everything a model file holds, and the bridge to and from a training run.

A model file is a trained model plus what it takes to continue training exactly where it stopped: the
history, the optimiser's configuration and state, the state of the generator that shuffles the batches,
and the options the run was started with. The storage formats (:mod:`netkit.io.hdf5`,
:mod:`netkit.io.safepickle`) only ever see the plain record that :mod:`netkit.io.record` makes of it.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from netkit import __version__
from netkit.errors import ModelFileError
from netkit.model.network import Network
from netkit.protocols import Optimizer
from netkit.training.trainer import History, Trainer

FORMAT_NAME = "netkit-model"
FORMAT_VERSION = 2  # 2: the config holds input_shape (1 held input_size); both are read

# The bit generators numpy ships; a file names one of these and nothing else gets instantiated.
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


def copy_history(history: History) -> History:
    """A history that grows apart from ``history`` (its frozen epoch records can be shared)."""
    return History(list(history.epochs), list(history.iteration_loss))


def restore_generator(state: dict[str, Any]) -> np.random.Generator:
    """A generator in exactly the saved ``bit_generator.state``, or a :class:`ModelFileError`."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise ModelFileError(f"rng_state names an unknown bit generator {name!r}; expected one of {BIT_GENERATORS}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"rng_state is not a valid {name} state: {exc}") from None
    return np.random.Generator(bit_generator)


@attrs.define(eq=False)
class ModelFile:
    """A model and its training context, as saved by :func:`netkit.io.save_model`.

    ``format_name``, ``format_version`` and ``netkit_version`` describe the file a ModelFile was loaded from;
    saving always writes the current format version and netkit version. ``optimizer`` carries configuration
    only; its arrays and counters are in ``optimizer_state`` (what ``optimizer.state()`` returned).
    """

    model: Network
    history: History = attrs.field(factory=History)
    optimizer: Optimizer | None = None
    optimizer_state: dict[str, Any] = attrs.field(factory=dict)
    rng_state: dict[str, Any] | None = None
    training: dict[str, Any] = attrs.field(factory=dict)
    # When ``model`` holds the best epoch rather than the last: the last epoch's parameters (flat, in the
    # model's memory order), which is where ``to_trainer`` continues from.
    resume_parameters: np.ndarray[Any, Any] | None = None
    format_name: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    netkit_version: str = __version__

    @classmethod
    def from_trainer(cls, trainer: Trainer, training: dict[str, Any] | None = None) -> ModelFile:
        """A snapshot of ``trainer`` after its last step, ready to save.

        The model is shared, not copied (saving reads it straight away); history, optimiser state and rng
        state are copies, so the trainer can keep training without changing what will be saved. The
        optimiser is a fresh instance with the same configuration: its state lives in ``optimizer_state``.
        """
        registry = trainer.model.registry
        optimizer: Optimizer = registry.create("optimizers", registry.spec_of("optimizers", trainer.optimizer))
        state = {
            key: value.copy() if isinstance(value, np.ndarray) else value
            for key, value in trainer.optimizer.state().items()
        }
        return cls(
            model=trainer.model,
            history=copy_history(trainer.history),
            optimizer=optimizer,
            optimizer_state=state,
            rng_state=dict(trainer.rng.bit_generator.state),
            training=dict(training or {}),
        )

    def to_trainer(self) -> Trainer:
        """A trainer that continues this run: same model (shared), optimiser state, shuffling and history.

        When the file holds the best epoch and the last epoch's ``resume_parameters``, the shared model gets
        the latter: training continues from where it stopped, not from the best epoch.

        An empty ``optimizer_state`` means a fresh optimiser. Without a saved ``rng_state`` the batches are
        shuffled by ``default_rng(0)``, the :class:`~netkit.training.trainer.Trainer` default.
        """
        if self.optimizer is None:
            raise ModelFileError(
                "this model file holds no optimizer, so training cannot resume from it; start a new run"
            )
        registry = self.model.registry
        optimizer_spec = registry.spec_of("optimizers", self.optimizer)
        # A fresh instance: binding resets an optimiser, and this ModelFile may build several trainers.
        optimizer: Optimizer = registry.create("optimizers", optimizer_spec)
        rng = restore_generator(self.rng_state) if self.rng_state is not None else np.random.default_rng(0)
        if self.resume_parameters is not None:
            np.copyto(self.model.parameters, self.resume_parameters)
        trainer = Trainer(self.model, optimizer, rng, copy_history(self.history))
        if self.optimizer_state:  # after Trainer binds the optimiser, which resets its state
            try:
                optimizer.load_state(self.optimizer_state)
            except (KeyError, ValueError, TypeError, IndexError) as exc:
                raise ModelFileError(
                    f"the saved state does not fit optimizer {optimizer_spec['type']!r}: {exc!r}"
                ) from None
        return trainer
