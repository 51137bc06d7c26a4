"""The training loop: batching by the optimiser, history, events, reproducibility, divergence, MNIST."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from netkit.data import Dataset, split_validation
from netkit.errors import ConfigError, DatasetError, TrainingDiverged
from netkit.model.evaluation import evaluate
from netkit.model.network import Network
from netkit.registry import default_registry
from netkit.training.trainer import Callback, EpochRecord, History, Trainer

from .conftest import SEED_ARCHITECTURE


def _toy(rng: np.random.Generator, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Three separable blobs in 8 dimensions."""
    labels = rng.integers(0, 3, n)
    centres = np.eye(3, 8) * 3
    images = (centres[labels] + rng.standard_normal((n, 8)) * 0.5).astype(np.float32)
    return images, labels.astype(np.int64)


def _toy_model(seed: int = 0, output: str = "softmax", loss: str = "cross-entropy") -> Network:
    layers = [
        {"type": "dense", "units": 6, "activation": "tanh"},
        {"type": "dense", "units": 3, "activation": output},
    ]
    return Network(8, layers, loss, np.random.default_rng(seed))


class Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_train_begin(self, trainer: Trainer, epochs: int, steps_per_epoch: int) -> None:
        self.events.append(("begin", steps_per_epoch))

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self.events.append(("epoch", epoch))

    def on_batch_end(self, trainer: Trainer, iteration: int, loss: float) -> None:
        self.events.append(("batch", iteration))

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        self.events.append(("epoch_end", record.epoch))

    def on_train_end(self, trainer: Trainer) -> None:
        self.events.append(("end", 0))


@pytest.mark.parametrize(
    ("optimizer", "steps_per_epoch"),
    [("full-batch", 1), ("stochastic", 300), ("mini-batch:batch_size=32", 10), ("adam:batch_size=100", 3)],
)
def test_the_optimizer_decides_the_steps_per_epoch(optimizer: str, steps_per_epoch: int) -> None:
    images, labels = _toy(np.random.default_rng(0))
    trainer = Trainer(_toy_model(), default_registry().create("optimizers", optimizer))
    recorder = Recorder()
    history = trainer.fit(images, labels, epochs=2, callbacks=[recorder])
    assert len(history.iteration_loss) == 2 * steps_per_epoch
    assert recorder.events[0] == ("begin", steps_per_epoch)
    assert [e for e in recorder.events if e[0] != "batch"][1:] == [
        ("epoch", 1),
        ("epoch_end", 1),
        ("epoch", 2),
        ("epoch_end", 2),
        ("end", 0),
    ]
    batches = [i for kind, i in recorder.events if kind == "batch"]
    assert batches == list(range(1, 2 * steps_per_epoch + 1))


def test_full_batch_step_is_the_exact_mean_gradient() -> None:
    """One full-batch step equals p - lr * (mean of per-sample gradients), computed one sample at a time."""
    images, labels = _toy(np.random.default_rng(1), n=20)
    reference = _toy_model(seed=4)
    per_sample = np.zeros_like(reference.parameters)
    for row in range(20):
        reference.backprop(images[row : row + 1], labels[row : row + 1])
        per_sample += reference.gradients / 20
    model = _toy_model(seed=4)
    before = model.parameters.copy()
    Trainer(model, default_registry().create("optimizers", "full-batch:learning_rate=0.7")).fit(images, labels, 1)
    np.testing.assert_allclose(model.parameters, before - 0.7 * per_sample, rtol=1e-5, atol=1e-6)


def test_training_reduces_the_loss_and_records_history() -> None:
    rng = np.random.default_rng(2)
    images, labels = _toy(rng)
    split = split_validation(images, labels, 0.2, rng)
    trainer = Trainer(_toy_model(), default_registry().create("optimizers", "mini-batch:learning_rate=0.3"))
    history = trainer.fit(
        split.train_images,
        split.train_labels,
        5,
        validation=(split.validation_images, split.validation_labels),
    )
    assert [r.epoch for r in history.epochs] == [1, 2, 3, 4, 5]
    assert history.epochs[-1].train_loss < history.epochs[0].train_loss
    assert history.epochs[-1].val_accuracy is not None and history.epochs[-1].val_accuracy > 0.9
    assert all(r.seconds > 0 and r.samples_per_second > 0 for r in history.epochs)
    assert History.from_dict(history.to_dict()) == history


def test_no_validation_leaves_validation_fields_empty() -> None:
    images, labels = _toy(np.random.default_rng(3))
    history = Trainer(_toy_model(), default_registry().create("optimizers", "mini-batch")).fit(images, labels, 1)
    assert history.epochs[0].val_loss is None and history.epochs[0].val_accuracy is None


def test_same_seed_same_run() -> None:
    images, labels = _toy(np.random.default_rng(4))
    runs = []
    for _ in range(2):
        model = _toy_model(seed=9)
        Trainer(model, default_registry().create("optimizers", "adam"), np.random.default_rng(1)).fit(images, labels, 2)
        runs.append(model.parameters.copy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_fitting_an_epoch_at_a_time_equals_one_fit() -> None:
    """Later fits reuse the first one's batch buffers; the run must not notice."""
    images, labels = _toy(np.random.default_rng(4), n=5000)
    trainers = [
        Trainer(_toy_model(seed=9), default_registry().create("optimizers", "mini-batch"), np.random.default_rng(1))
        for _ in range(2)
    ]
    trainers[0].fit(images, labels, 3)
    for _ in range(3):
        trainers[1].fit(images, labels, 1)
    np.testing.assert_array_equal(trainers[0].model.parameters, trainers[1].model.parameters)
    assert trainers[0].history.iteration_loss == trainers[1].history.iteration_loss


def test_a_later_fit_trains_on_its_own_data() -> None:
    """Same-shaped new data reuses the buffers, yet every batch comes from the new arrays."""
    images, labels = _toy(np.random.default_rng(4), n=5000)
    other_images, other_labels = _toy(np.random.default_rng(8), n=5000)
    fresh, reused = (
        Trainer(_toy_model(seed=9), default_registry().create("optimizers", "mini-batch"), np.random.default_rng(1))
        for _ in range(2)
    )
    fresh.fit(other_images, other_labels, 1)
    start = reused.model.parameters.copy()
    reused.fit(images, labels, 1)
    np.copyto(reused.model.parameters, start)  # back to the start, but with the first fit's buffers in place
    reused.rng = np.random.default_rng(1)
    reused.fit(other_images, other_labels, 1)
    np.testing.assert_array_equal(reused.model.parameters, fresh.model.parameters)


def test_a_trainer_keeps_its_batch_buffers_but_not_the_data() -> None:
    images, labels = _toy(np.random.default_rng(4), n=5000)
    trainer = Trainer(_toy_model(), default_registry().create("optimizers", "mini-batch"))
    trainer.fit(images, labels, 1)
    data = weakref.ref(images)
    del images
    gc.collect()
    assert data() is None


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the overflow is the point
def test_divergence_stops_with_a_clear_error() -> None:
    images, labels = _toy(np.random.default_rng(5))
    images *= 1e20
    model = Network(8, [{"type": "dense", "units": 3, "activation": "identity"}], "mse")
    trainer = Trainer(model, default_registry().create("optimizers", "mini-batch:learning_rate=1e10"))
    with pytest.raises(TrainingDiverged, match=r"the loss became (inf|nan) at epoch 1, iteration \d+"):
        trainer.fit(images, labels, 3)


def test_epochs_must_be_positive() -> None:
    images, labels = _toy(np.random.default_rng(6))
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        Trainer(_toy_model(), default_registry().create("optimizers", "mini-batch")).fit(images, labels, 0)


def test_labels_must_match_the_images_and_the_classes() -> None:
    images, labels = _toy(np.random.default_rng(6))
    trainer = Trainer(_toy_model(), default_registry().create("optimizers", "mini-batch"))
    with pytest.raises(ConfigError, match="one label per image"):
        trainer.fit(images, labels[:-1], 1)
    with pytest.raises(DatasetError, match="labels must lie in"):
        trainer.fit(images, labels + 100, 1)


# Measured: 94.59% with these seeds (94.03-94.59% over seeds 0-3); batch 32 at lr 0.5 gives 94.22%.
SEED_OPTIMIZER = "mini-batch:learning_rate=0.1,batch_size=10"


def test_seed_network_reaches_94_percent_on_mnist_in_5_epochs(mnist: Dataset) -> None:
    """784-16-16-10, sigmoid hidden layers, softmax + cross-entropy, mini-batch SGD, on the real data."""
    model = Network(784, SEED_ARCHITECTURE, "cross-entropy", np.random.default_rng([0, 0]))
    trainer = Trainer(model, default_registry().create("optimizers", SEED_OPTIMIZER), np.random.default_rng([0, 2]))
    trainer.fit(mnist.train_images, mnist.train_labels, 5)
    assert evaluate(model, mnist.test_images, mnist.test_labels).accuracy >= 0.94


def test_the_original_configuration_learns_too(mnist: Dataset) -> None:
    """Sigmoid output with the quadratic (mse) loss, as the original program had it."""
    layers = [*SEED_ARCHITECTURE[:2], {"type": "dense", "units": 10, "activation": "sigmoid"}]
    model = Network(784, layers, "mse", np.random.default_rng([0, 0]))
    optimizer = default_registry().create("optimizers", "mini-batch:learning_rate=3.0,batch_size=32")
    Trainer(model, optimizer, np.random.default_rng([0, 2])).fit(mnist.train_images, mnist.train_labels, 3)
    assert evaluate(model, mnist.test_images, mnist.test_labels).accuracy >= 0.92
