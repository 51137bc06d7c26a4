"""Learning-rate schedules and the dropout layer: their maths, and how the trainer drives them."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from netkit.model.network import Network
from netkit.plugins.dropout import Dropout
from netkit.plugins.schedules import Constant, Cosine, Exponential, Step
from netkit.registry import default_registry
from netkit.testing import check_layer, check_model_gradients
from netkit.training.trainer import Trainer


def test_each_schedule_gives_its_formula() -> None:
    assert [Step(every=2, factor=0.5).rate(1.0, e) for e in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    assert [round(Exponential(decay=0.5).rate(0.8, e), 12) for e in range(3)] == [0.8, 0.4, 0.2]
    cosine = Cosine(epochs=4)
    assert [round(cosine.rate(2.0, e), 12) for e in range(6)] == [
        2.0,
        round(1 + math.sqrt(0.5), 12),
        1.0,
        round(1 - math.sqrt(0.5), 12),
        0.0,
        0.0,
    ]
    assert Cosine(epochs=2, minimum=0.1).rate(1.0, 2) == pytest.approx(0.1)
    assert [Constant().rate(0.3, e) for e in (0, 7)] == [0.3, 0.3]


def test_warm_up_ramps_linearly_then_hands_over() -> None:
    schedule = Step(every=1, factor=0.5, warmup=3)
    assert [schedule.rate(1.0, e) for e in range(6)] == [0.25, 0.5, 0.75, 1.0, 0.5, 0.25]


def test_bad_schedule_options_are_refused_with_the_value() -> None:
    with pytest.raises(Exception, match=r"Received: decay=1\.5"):
        default_registry().create("schedules", "exponential:decay=1.5")
    with pytest.raises(Exception, match="Received: every=0"):
        default_registry().create("schedules", "step:every=0")


def _data(rows: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (rows, 784)).astype(np.float32), rng.integers(0, 10, rows)


def _trainer(layers: list, optimizer: str = "mini-batch") -> Trainer:
    model = Network(784, layers, rng=np.random.default_rng(1))
    return Trainer(model, default_registry().create("optimizers", optimizer), np.random.default_rng(2))


def test_the_trainer_steps_each_epoch_with_the_scheduled_rate_and_keeps_the_base() -> None:
    images, labels = _data()
    trainer = _trainer(["dense:units=8", "dense:units=10,activation=softmax"])
    trainer.schedule = Step(every=1, factor=0.5)
    trainer.fit(images, labels, 3)
    assert [record.learning_rate for record in trainer.history.epochs] == [0.5, 0.25, 0.125]
    assert trainer.optimizer.learning_rate == 0.5  # the optimiser's config (and a saved file) keep the base


def test_a_zero_rate_epoch_leaves_gradient_descent_weights_alone() -> None:
    images, labels = _data()
    trainer = _trainer(["dense:units=8", "dense:units=10,activation=softmax"])
    trainer.schedule = Cosine(epochs=1)  # epoch 2 onwards: rate 0
    trainer.fit(images, labels, 1)
    after_one = trainer.model.parameters.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 when the folded learning rate is divided out
        trainer.fit(images, labels, 1)
    np.testing.assert_array_equal(trainer.model.parameters, after_one)
    assert np.isfinite(trainer.model.gradients).all()  # what a callback or the web page would read


def test_dropout_is_off_at_inference_and_inverted_while_training() -> None:
    layer = Dropout(rate=0.25)
    layer.build((1000,))
    x = np.ones((50, 1000), dtype=np.float32)
    assert layer.forward(x, False) is x
    out = layer.forward(x, True)
    dropped = float(np.mean(out == 0))
    assert 0.23 < dropped < 0.27
    np.testing.assert_allclose(out[out != 0], 1 / 0.75)  # kept inputs carry the dropped ones' share
    assert abs(float(out.mean()) - 1.0) < 0.02


def test_dropout_backward_passes_the_gradient_through_the_same_mask() -> None:
    layer = Dropout(rate=0.5)
    layer.build((20,))
    out = layer.forward(np.ones((4, 20)), True).copy()
    grad = layer.backward(np.ones((4, 20)))
    assert grad is not None
    np.testing.assert_array_equal(grad, out)


def test_dropout_conformance_with_a_fixed_mask_and_whole_network_gradient() -> None:
    check_layer(Dropout(rate=0.3))
    model = Network(
        6,
        ["dense:units=5,activation=tanh", {"type": "dropout", "rate": 0.4}, "dense:units=3,activation=softmax"],
        rng=np.random.default_rng(3),
        dtype=np.float64,
    )
    check_model_gradients(model, np.random.default_rng(4))


def test_behind_an_input_dropout_the_first_dense_layer_still_gets_true_gradients() -> None:
    """Nothing consumes dL/dx before the first layer with parameters (the fast form skips making it): the
    weight gradients are still dL/dW."""
    layers = [{"type": "dropout", "rate": 0.2}, "dense:units=5,activation=tanh", "dense:units=3,activation=softmax"]
    model = Network(6, layers, rng=np.random.default_rng(3), dtype=np.float64)
    check_model_gradients(model, np.random.default_rng(4))


def test_a_bad_dropout_rate_is_refused_with_the_value() -> None:
    with pytest.raises(Exception, match=r"Received: rate=1\.0"):
        default_registry().create("layers", "dropout:rate=1")


def test_dropout_masks_follow_the_run_generator_so_resume_is_exact() -> None:
    images, labels = _data()
    layers = ["dense:units=8", {"type": "dropout", "rate": 0.5}, "dense:units=10,activation=softmax"]
    whole = _trainer(layers)
    whole.fit(images, labels, 2)
    first = _trainer(layers)
    first.fit(images, labels, 1)
    second = _trainer(layers)
    second.model.parameters[...] = first.model.parameters
    second.rng.bit_generator.state = first.rng.bit_generator.state
    second.fit(images, labels, 1)
    np.testing.assert_array_equal(second.model.parameters, whole.model.parameters)
    other_seed = _trainer(layers)
    other_seed.rng = np.random.default_rng(99)
    other_seed.fit(images, labels, 2)
    assert not np.array_equal(other_seed.model.parameters, whole.model.parameters)


def test_a_model_with_dropout_reads_like_its_dense_layers() -> None:
    model = Network(784, ["dense:units=16", "dropout:rate=0.2", "dense:units=10,activation=softmax"])
    assert repr(model) == "784-16-10 (sigmoid, softmax, dropout 0.2)"
