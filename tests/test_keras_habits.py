"""What Keras users type works: a model without an input size, validation_split, History.history, training
accuracy, ``loss, accuracy = model.evaluate(...)``, ``model.save(path)`` and ``verbose``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import netkit as nk
from netkit.cli.main import cli
from netkit.errors import ConfigError
from netkit.io import load_model
from tests.data_helpers import halves


def _model(**options: Any) -> nk.Sequential:
    return nk.Sequential([nk.Dense(8, "relu"), nk.Dense(2, "softmax")], seed=0, **options)


def test_a_model_without_an_input_size_takes_it_from_the_first_fit() -> None:
    images, labels = halves(features=6)
    model = _model()
    assert not model.built and "not built" in repr(model)
    with pytest.raises(ConfigError, match="no input size yet"):
        model.predict(images)
    model.fit(images, labels, epochs=2, progress=False)
    assert model.built and model.input_shape == (6,) and repr(model).startswith("6-8-2")
    # The same weights and run as a model told its input size at the start.
    told = _model(input_size=6)
    told.fit(images, labels, epochs=2, progress=False)
    np.testing.assert_array_equal(model.parameters, told.parameters)
    assert model.evaluate(images, labels).accuracy > 0.9


def test_images_without_a_channel_axis_build_a_one_channel_input() -> None:
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (40, 6, 6)).astype(np.float32), np.arange(40) % 3
    model = nk.Sequential(["conv2d:filters=2,kernel=3", nk.Dense(3, "softmax")], seed=0)
    model.fit(images, labels, epochs=1, progress=False)
    assert model.input_shape == (1, 6, 6)
    assert model.predict(images).shape == (40,)


def test_validation_split_is_the_validation_fraction() -> None:
    images, labels = halves(features=6)
    split = _model(input_size=6)
    history = split.fit(images, labels, epochs=1, validation_split=0.25, progress=False)
    named = _model(input_size=6)
    named.fit(images, labels, epochs=1, validation=0.25, progress=False)
    np.testing.assert_array_equal(split.parameters, named.parameters)
    assert split.training["validation"] == 0.25 and not np.isnan(history.val_loss).any()
    with pytest.raises(ConfigError, match="give one of them"):
        _model(input_size=6).fit(images, labels, validation=0.1, validation_split=0.1)


def test_history_is_a_dict_of_lists_under_keras_names() -> None:
    images, labels = halves(features=6)
    model = _model(input_size=6)
    history = model.fit(images, labels, epochs=3, progress=False)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(isinstance(values, list) and len(values) == 3 for values in history.history.values())
    assert history.history["loss"] == [float(value) for value in history.loss]  # the arrays stay
    assert model.history.history["val_accuracy"] == list(model.history.val_accuracy)
    assert "val_loss" not in _model(input_size=6).fit(images, labels, validation=0, progress=False).history


def test_training_accuracy_is_the_running_accuracy_of_the_epochs_batches() -> None:
    images, labels = halves(features=6)
    # Full batch: the one batch is scored before its one step, so the running accuracy is the accuracy of
    # the weights the epoch starts with.
    model = _model(input_size=6)
    before = model.evaluate(images, labels).accuracy
    history = model.fit(images, labels, epochs=1, optimizer="full-batch", validation=0, progress=False)
    assert history.accuracy[0] == pytest.approx(before)
    # Mini-batches: it climbs as the network learns, and ends near the final accuracy.
    model = _model(input_size=6)
    history = model.fit(images, labels, epochs=4, progress=False)
    assert history.accuracy[-1] > history.accuracy[0] and history.accuracy[-1] > 0.9


def test_training_accuracy_is_saved_and_printed_as_json(tmp_path: Path, data_root: Path) -> None:
    out = tmp_path / "m.h5"
    result = CliRunner().invoke(cli, ["train", "--layers", "8", "--epochs", "1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    (epoch,) = json.loads(result.stdout)["history"]["epochs"]
    assert {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds"} <= set(epoch)
    assert 0.5 < epoch["train_accuracy"] < 1.0
    assert load_model(out).history.epochs[0].train_accuracy == epoch["train_accuracy"]
    assert nk.load(out).history.history["accuracy"] == [epoch["train_accuracy"]]


def test_evaluate_unpacks_as_loss_and_accuracy() -> None:
    images, labels = halves(features=6)
    model = _model(input_size=6)
    model.fit(images, labels, epochs=2, progress=False)
    scores = model.evaluate(images, labels)
    loss, accuracy = scores
    assert (loss, accuracy) == (scores.loss, scores.accuracy) and scores[1] == scores.accuracy
    assert scores.confusion.sum() == len(labels)  # the attributes stay


@pytest.mark.parametrize("name", ["model.h5", "model.pkl"])
def test_model_save_writes_what_netkit_load_reads(tmp_path: Path, name: str) -> None:
    images, labels = halves(features=6)
    model = _model()
    model.fit(images, labels, epochs=2, progress=False)
    assert model.save(tmp_path / name) == tmp_path / name
    again = nk.load(tmp_path / name)
    np.testing.assert_array_equal(again.predict_proba(images), model.predict_proba(images))
    assert again.history.history == model.history.history


@pytest.mark.parametrize(("verbose", "bar"), [(0, False), (1, True), (2, True), ("auto", False)])
def test_fit_takes_keras_verbose_for_its_progress_bar(
    verbose: int | str, bar: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """0 is silent, 1 and 2 draw the bar, "auto" draws it only where someone watches (not pytest's capture)."""
    images, labels = halves()
    _model().fit(images, labels, epochs=2, verbose=verbose)
    printed = capsys.readouterr().out
    assert ("epoch 2/2 [" in printed) is bar


def test_predict_and_evaluate_take_keras_verbose_and_print_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    images, labels = halves()
    model = _model()
    model.fit(images, labels, epochs=1, progress=False)
    np.testing.assert_array_equal(model.predict(images, verbose=0), model.predict(images))
    assert tuple(model.evaluate(images, labels, verbose=1)) == tuple(model.evaluate(images, labels))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("verbose", [3, -1, "loud", 1.0, True])
def test_verbose_outside_keras_values_is_a_one_line_error(verbose: object) -> None:
    images, labels = halves()
    with pytest.raises(ConfigError, match=r"verbose must be 0, 1, 2 or 'auto'.*Received: verbose="):
        _model().fit(images, labels, verbose=verbose)
    with pytest.raises(ConfigError, match="Received: verbose="):
        _model().predict(images, verbose=verbose)


def test_verbose_and_progress_together_are_refused() -> None:
    images, labels = halves()
    with pytest.raises(ConfigError, match="progress and verbose say the same thing"):
        _model().fit(images, labels, verbose=1, progress=True)
