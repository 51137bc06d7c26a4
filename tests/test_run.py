"""The core run semantics (``netkit.training.run``) that ``netkit train`` and the Python API share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netkit.data import Dataset
from netkit.errors import ConfigError, PluginError
from netkit.io import load_model
from netkit.training.resume import open_resumed, resumed_run
from netkit.training.run import (
    Checkpoint,
    RunRequest,
    build_optimizer,
    merge_optimizer_options,
    new_run,
    seeded,
    split_for_run,
)
from netkit.training.trainer import Callback, EpochRecord, Trainer

API_NAMES = {"optimizer": "optimizer", "learning_rate": "learning_rate", "batch_size": "batch_size"}


def _tiny_dataset() -> Dataset:
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (120, 6)).astype(np.float32)
    labels = (images[:, 0] > 0.5).astype(np.int64)
    return Dataset("tiny", images[:100], labels[:100], images[100:], labels[100:], ("low", "high"), (2, 3))


def _request(out: Path, **changes: object) -> RunRequest:
    options: dict[str, object] = {
        "layers": [4],
        "activation": "tanh",
        "output_activation": "softmax",
        "loss": "cross-entropy",
        "optimizer": "mini-batch",
        "batch_size": 10,
        "learning_rate": 0.3,
        "seed": 3,
        "dataset": "tiny",
        "validation": 0.2,
        "out": out,
        "format": None,
    }
    options.update(changes)
    return RunRequest(**options)  # type: ignore[arg-type]


def test_each_stream_of_the_seed_scheme_is_its_own_generator() -> None:
    assert seeded(4, 1).integers(1 << 30) == np.random.default_rng([4, 1]).integers(1 << 30)
    assert seeded(4, 0).integers(1 << 30) != seeded(4, 2).integers(1 << 30)


def test_the_validation_split_depends_only_on_the_seed() -> None:
    images = np.arange(40, dtype=np.float32).reshape(20, 2)
    labels = np.arange(20, dtype=np.int64) % 2
    first = split_for_run(images, labels, 0.25, seed=7)
    again = split_for_run(images, labels, 0.25, seed=7)
    other = split_for_run(images, labels, 0.25, seed=8)
    assert first[2] is not None and again[2] is not None and other[2] is not None
    assert first[0].shape == (15, 2) and first[2][0].shape == (5, 2)
    np.testing.assert_array_equal(first[2][0], again[2][0])
    assert not np.array_equal(first[2][0], other[2][0])
    assert split_for_run(images, labels, 0, seed=7)[2] is None


def test_optimizer_options_merge_and_messages_use_the_callers_names() -> None:
    assert merge_optimizer_options("adam", 0.01, 64) == {"type": "adam", "learning_rate": 0.01, "batch_size": 64}
    assert merge_optimizer_options("mini-batch:lr=0.2", None, None) == {"type": "mini-batch", "learning_rate": 0.2}
    with pytest.raises(ConfigError, match="optimizer 'full-batch' has no batch size; drop --batch-size"):
        merge_optimizer_options("full-batch", None, 8)
    with pytest.raises(ConfigError, match=r"optimizer adam:learning_rate=0.01,.* and learning_rate 0.1 disagree"):
        merge_optimizer_options(build_optimizer("adam:learning_rate=0.01"), 0.1, None, API_NAMES)
    with pytest.raises(PluginError, match=r"bad options for optimizer 'adam': beta1 must be in \[0, 1\)"):
        build_optimizer("adam:beta1=2")


class _Epochs(Callback):
    def __init__(self) -> None:
        self.seen: list[int] = []

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        self.seen.append(record.epoch)


def test_a_run_checkpoints_every_epoch_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    out = tmp_path / "run.h5"
    dataset = _tiny_dataset()
    straight = new_run(_request(tmp_path / "straight.h5"), dataset)
    straight.train(3)

    run = new_run(_request(out), dataset)
    assert run.validation is not None and len(run.validation[1]) == 20
    watcher = _Epochs()
    run.train(2, [Checkpoint(out, run.training, "hdf5"), watcher])
    assert watcher.seen == [1, 2]
    assert load_model(out).training["seed"] == 3

    model_file, trainer, _held = open_resumed(out)
    resumed = resumed_run(_request(out), model_file, trainer, dataset)
    assert resumed.resumed_from == 2
    resumed.train(1)
    np.testing.assert_array_equal(resumed.trainer.model.parameters, straight.trainer.model.parameters)
    assert resumed.trainer.history.iteration_loss == straight.trainer.history.iteration_loss
