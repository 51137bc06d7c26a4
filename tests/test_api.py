"""The Python API, ``import netkit as nk``: the issue's notebook block on the real MNIST, and its contracts."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import netkit as nk
from netkit.cli.main import cli
from netkit.data import Dataset
from netkit.io import load_model
from netkit.training.progress import ProgressBar


def _seed_net(seed: int = 0) -> nk.Sequential:
    return nk.Sequential(
        [nk.Dense(16, "sigmoid"), nk.Dense(16, "sigmoid"), nk.Dense(10, "softmax")],
        loss="cross-entropy",
        input_size=784,
        seed=seed,
    )


def test_the_notebook_block_runs_as_written(mnist_dir: Path, tmp_path: Path) -> None:
    data = nk.datasets.load("mnist", data_dir=mnist_dir, download=False)
    model = _seed_net()
    history = model.fit(
        data.train_images,
        data.train_labels,
        epochs=5,
        optimizer="mini-batch",
        batch_size=32,
        learning_rate=0.5,
        validation=0.1,
        progress=False,
    )
    for column in (history.loss, history.val_loss, history.val_accuracy):
        assert isinstance(column, np.ndarray) and column.shape == (5,)
    assert history.loss[-1] < history.loss[0] and history.val_accuracy[-1] > 0.9
    scores = model.evaluate(data.test_images, data.test_labels)
    assert scores.accuracy > 0.9 and scores.confusion.sum() == 10_000
    assert scores.precision.shape == scores.recall.shape == (10,)
    images = data.test_images[:20]
    np.testing.assert_array_equal(model.predict(images), model.predict_proba(images).argmax(axis=1))
    assert "13,002" in str(model.summary()) and "<table>" in model.summary()._repr_html_()
    np.testing.assert_array_equal(model.history.loss, history.loss)

    path = tmp_path / "model.h5"
    nk.save(model, path)
    model = nk.load(path)
    np.testing.assert_array_equal(model.history.loss, history.loss)
    later = model.fit(data.train_images, data.train_labels, epochs=5, progress=False)
    assert list(later.epoch) == [6, 7, 8, 9, 10] and len(model.history) == 10


def _small_digits(mnist: Dataset, rows: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    return mnist.train_images[:rows], mnist.train_labels[:rows]


def test_save_and_load_continue_exactly_like_an_uninterrupted_fit(mnist: Dataset, tmp_path: Path) -> None:
    images, labels = _small_digits(mnist)
    straight = _seed_net(seed=4)
    straight.fit(images, labels, epochs=3, optimizer="adam", validation=0.2, progress=False)

    stopped = _seed_net(seed=4)
    stopped.fit(images, labels, epochs=2, optimizer=nk.optimizer("adam"), validation=0.2, progress=False)
    nk.save(stopped, tmp_path / "stopped.pkl")
    resumed = nk.load(tmp_path / "stopped.pkl")
    resumed.fit(images, labels, epochs=1, progress=False)
    np.testing.assert_array_equal(resumed.parameters, straight.parameters)
    np.testing.assert_array_equal(resumed.history.iteration_loss, straight.history.iteration_loss)
    np.testing.assert_array_equal(resumed.history.val_loss, straight.history.val_loss)


def test_fit_and_netkit_train_share_their_run_semantics(mnist: Dataset, mnist_dir: Path, tmp_path: Path) -> None:
    """Same seed, options and rows: the CLI and the API give the same weights, and read each other's files."""
    out = tmp_path / "cli.h5"
    arguments = ["train", "--epochs", "1", "--layers", "16,16", "--seed", "2", "--lr", "0.3", "--out", str(out)]
    result = CliRunner().invoke(cli, [*arguments, "--data-dir", str(mnist_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    model = _seed_net(seed=2)
    model.fit(mnist.train_images, mnist.train_labels, optimizer="mini-batch", learning_rate=0.3, validation=0.1)
    from_cli = load_model(out)
    np.testing.assert_array_equal(model.parameters, from_cli.model.parameters)
    assert {key: model.training[key] for key in ("seed", "validation", "optimizer", "loss")} == {
        key: from_cli.training[key] for key in ("seed", "validation", "optimizer", "loss")
    }
    nk.save(model, tmp_path / "api.h5")  # and netkit train resumes a file the API saved
    resumed = CliRunner().invoke(cli, ["train", "--resume", "--epochs", "1", "--out", str(tmp_path / "api.h5"), "-q"])
    assert resumed.exit_code == 0, resumed.output
    assert len(load_model(tmp_path / "api.h5").history.epochs) == 2


def test_fit_and_netkit_train_have_the_same_defaults(mnist: Dataset, mnist_dir: Path, tmp_path: Path) -> None:
    """No options at all on either side: the same recipe, validation rows and kept epoch, so the same weights."""
    out = tmp_path / "cli.h5"
    result = CliRunner().invoke(cli, ["train", "--epochs", "2", "--out", str(out), "--data-dir", str(mnist_dir), "-q"])
    assert result.exit_code == 0, result.output
    model = _seed_net(seed=0)
    model.fit(mnist.train_images.reshape(-1, 28, 28), mnist.train_labels, epochs=2)  # images as images
    from_cli = load_model(out)
    np.testing.assert_array_equal(model.parameters, from_cli.model.parameters)
    for key in ("seed", "validation", "optimizer", "schedule", "keep", "held_epoch"):
        assert model.training.get(key) == from_cli.training.get(key), key


def test_plugins_as_specs_or_objects_give_the_same_network() -> None:
    by_spec = nk.Sequential(["dense:units=8,activation=relu", "dense:units=3,activation=softmax"], input_size=5)
    by_object = nk.Sequential(
        [nk.layer("dense", units=8, activation=nk.activation("relu")), nk.Dense(3, "softmax")],
        loss=nk.loss("cross-entropy"),
        input_size=5,
    )
    assert by_spec.get_config() == by_object.get_config()
    np.testing.assert_array_equal(by_spec.parameters, by_object.parameters)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, x, y: m.fit(x, y, epochs=0), "epochs must be a whole number of at least 1"),
        (lambda m, x, y: m.fit(x[:, :3], y), r"expects rows of 6 inputs, got shape \(40, 3\)"),
        (lambda m, x, y: m.fit(x, y[:-1]), "one whole-number label per image"),
        (lambda m, x, y: m.fit(x, y + 5), r"labels must lie in \[0, 3\)"),
        (lambda m, x, y: m.fit(x, y, optimizer="full-batch", batch_size=8), "'full-batch' has no batch size"),
        (lambda m, x, y: m.fit(x, y, optimizer="rmsprop"), "unknown optimizer 'rmsprop'; available: adam"),
        (lambda m, x, y: m.fit(x, y, learning_rate=-1.0), "learning_rate must be a positive number"),
        (lambda m, x, y: m.fit(x, y, validation=-0.5), "validation must be a fraction below 1"),
    ],
)
def test_bad_input_is_a_netkit_error_with_one_line(call, message: str) -> None:  # type: ignore[no-untyped-def]
    model = nk.Sequential(["dense:units=4", "dense:units=3,activation=softmax"], input_size=6)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (40, 6)), rng.integers(0, 3, 40)
    with pytest.raises(nk.NetkitError, match=message) as caught:
        call(model, x, y)
    assert "\n" not in str(caught.value)


def test_a_later_fit_refuses_to_change_the_run() -> None:
    model = nk.Sequential(["dense:units=4", "dense:units=3,activation=softmax"], input_size=6)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (40, 6)), rng.integers(0, 3, 40)
    model.fit(x, y, learning_rate=0.2, validation=10)
    model.fit(x, y, optimizer="mini-batch", learning_rate=0.2, validation=10)  # the same settings continue
    with pytest.raises(nk.ConfigError, match=r"already trains with mini-batch:learning_rate=0\.2"):
        model.fit(x, y, learning_rate=0.1)
    with pytest.raises(nk.ConfigError, match="holds out validation=10"):
        model.fit(x, y, validation=0.5)
    assert len(model.history) == 2


def test_callbacks_see_every_epoch_and_a_checkpoint_saves_each(tmp_path: Path) -> None:
    model = nk.Sequential(["dense:units=4", "dense:units=3,activation=softmax"], input_size=6)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, (50, 6)), rng.integers(0, 3, 50)
    seen: list[int] = []
    callback = nk.LambdaCallback(on_epoch_end=lambda trainer, record: seen.append(record.epoch))
    model.fit(x, y, epochs=3, callbacks=[callback], checkpoint=tmp_path / "run.h5")
    assert seen == [1, 2, 3]
    assert len(load_model(tmp_path / "run.h5").history.epochs) == 3


def test_history_arrays_belong_to_the_caller() -> None:
    model = nk.Sequential(["dense:units=4", "dense:units=3,activation=softmax"], input_size=6)
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 1, (50, 6)), rng.integers(0, 3, 50)
    first = model.fit(x, y, epochs=2, validation=0)
    assert np.isnan(first.val_loss).all()  # no validation rows
    first.loss[:] = 99.0
    assert not np.any(model.history.loss == 99.0)
    second = model.fit(x, y, epochs=1)
    assert list(second.epoch) == [3] and second.iteration_loss.size == 2  # 50 rows, batches of 32


def test_the_progress_bar_redraws_one_line_per_epoch() -> None:
    model = nk.Sequential(["dense:units=4", "dense:units=3,activation=softmax"], input_size=6)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1, (100, 6)), rng.integers(0, 3, 100)
    stream = io.StringIO()
    model.fit(x, y, epochs=2, validation=0.2, callbacks=[ProgressBar(stream)], progress=False)
    lines = stream.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 3
    assert lines[0].startswith("\repoch 1/2 [") and "3/3" in lines[0] and "val_accuracy" in lines[0]
    assert lines[1].split("\r")[-1].startswith("epoch 2/2 [========================]")


def test_fit_is_silent_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    model = nk.Sequential(["dense:units=3,activation=softmax"], input_size=6)
    model.fit(np.zeros((10, 6)), np.zeros(10, dtype=int), epochs=2)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("optimizer", ["mini-batch", "momentum", "adam"])
def test_a_pickled_model_keeps_its_views_and_continues_its_run(optimizer: str) -> None:
    import copy
    import pickle

    model = nk.Sequential(["dense:units=4", "dense:units=3,activation=softmax"], input_size=6, seed=5)
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 1, (60, 6)), rng.integers(0, 3, 60)
    model.fit(x, y, epochs=2, optimizer=optimizer, validation=10)
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert np.shares_memory(twin.parameter_views[0]["weight"], twin.parameters)
        np.testing.assert_array_equal(twin.predict_proba(x), model.predict_proba(x))
        twin.fit(x, y)
        assert len(twin.history) == 3
    model.fit(x, y)
    np.testing.assert_array_equal(twin.parameters, model.parameters)
