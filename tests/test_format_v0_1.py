"""Model files written by netkit 0.1 still load, score, predict and resume as netkit 0.1 did.

The files in ``tests/fixtures/v0_1/`` and their figures in ``expected.json`` were made by netkit 0.1.0 itself
(``make_fixtures.py`` there, kept for the record). Everything here goes through public behaviour only:
``nk.load``, ``evaluate``, ``predict``, ``predict_proba``, ``fit``, ``history``, ``training``,
``netkit.export.save_npz`` and the CLI (``netkit evaluate``, ``netkit inspect``, ``netkit train --resume``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import netkit as nk
from netkit.cli.main import cli

try:  # save_npz moved after netkit 0.1; netkit.export is its 0.1 home
    from netkit.bridges.export import save_npz
except ImportError:
    from netkit.export import save_npz  # type: ignore[no-redef]

Dataset = Any  # what nk.datasets.load returns
FIXTURES = Path(__file__).parent / "fixtures" / "v0_1"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
FILES = sorted(EXPECTED["files"])
RESUMABLE = [name for name in FILES if EXPECTED["files"][name]["resumable"]]

LOSS_RTOL = 1e-5  # a loss of the same parameters on the same rows
EPOCH_RTOL = 1e-4  # the losses of an epoch trained after loading, in float32
PARAMETER_ATOL = 1e-5  # a parameter after that epoch


def on_csv(name: str) -> bool:
    return name.startswith("wide_csv")


@pytest.fixture(scope="module")
def csv_data() -> Dataset:
    return nk.datasets.load(EXPECTED["csv_dataset"], data_dir=FIXTURES)


def evaluation_set(name: str, mnist: Dataset, csv_data: Dataset) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    if on_csv(name):
        return csv_data.test_images, csv_data.test_labels
    rows = EXPECTED["mnist_eval_rows"]
    return mnist.test_images[:rows], mnist.test_labels[:rows]


def training_rows(name: str, mnist: Dataset, csv_data: Dataset) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    if on_csv(name):
        return csv_data.train_images, csv_data.train_labels
    rows = EXPECTED["mnist_train_rows"]
    return mnist.train_images[:rows], mnist.train_labels[:rows]


def run_cli(*args: Any) -> str:
    result = CliRunner().invoke(cli, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    return result.output


def parameters_of(model: Any, folder: Path) -> dict[str, np.ndarray[Any, Any]]:
    """Every parameter array as ``save_npz`` writes it (weights as inputs x units), by name."""
    path = save_npz(model, folder / "parameters.npz")
    with np.load(path) as stored:
        return {name: np.array(stored[name]) for name in stored.files if name != "config"}


def check_parameters(model: Any, expected: dict[str, Any], folder: Path, atol: float) -> None:
    arrays = parameters_of(model, folder)
    assert sorted(arrays) == sorted(expected)
    for name, summary in expected.items():
        array = arrays[name].astype(np.float64)
        assert list(array.shape) == summary["shape"], name
        np.testing.assert_allclose(array.ravel()[:10], summary["first"], rtol=0, atol=atol, err_msg=name)
        # Sums of thousands of values: each may move by atol, the total by about sqrt(count) * atol.
        spread = atol * np.sqrt(array.size)
        np.testing.assert_allclose(array.sum(), summary["sum"], rtol=0, atol=spread, err_msg=f"{name} sum")
        np.testing.assert_allclose(np.sqrt((array**2).sum()), summary["l2"], rtol=0, atol=spread, err_msg=name)


def check_epoch(model: Any, history: Any, expected: dict[str, Any], folder: Path) -> None:
    assert len(model.history) == expected["epochs"]
    assert int(history.epoch[-1]) == expected["epoch"]
    assert model.training["held_epoch"] == expected["held_epoch"]
    assert history.loss[-1] == pytest.approx(expected["train_loss"], rel=EPOCH_RTOL)
    assert history.val_loss[-1] == pytest.approx(expected["val_loss"], rel=EPOCH_RTOL)
    assert history.val_accuracy[-1] == pytest.approx(expected["val_accuracy"], abs=1e-12)
    assert history.learning_rate[-1] == pytest.approx(expected["learning_rate"], rel=1e-12)
    losses = history.iteration_loss[-expected["iterations"] :]
    np.testing.assert_allclose(losses[:5], expected["first_iteration_losses"], rtol=EPOCH_RTOL)
    check_parameters(model, expected["parameters"], folder, PARAMETER_ATOL)


@pytest.mark.parametrize("name", FILES)
def test_loads_scores_and_predicts_as_0_1(name: str, mnist: Dataset, csv_data: Dataset, tmp_path: Path) -> None:
    expected = EXPECTED["files"][name]
    model = nk.load(FIXTURES / name)
    assert str(model.summary()).splitlines()[0] == expected["architecture"]
    assert len(model.history) == expected["epochs"]
    assert model.training.get("held_epoch") == expected["held_epoch"]
    assert (model.optimizer is not None) == expected["resumable"]
    check_parameters(model, expected["parameters"], tmp_path, atol=0.0)

    images, labels = evaluation_set(name, mnist, csv_data)
    scores = expected["scores"]
    evaluation = model.evaluate(images, labels)
    assert labels.size == scores["n"]
    assert evaluation.accuracy == scores["accuracy"]
    assert evaluation.loss == pytest.approx(scores["loss"], rel=LOSS_RTOL)
    predicted = np.asarray(model.predict(images))
    assert predicted[:20].tolist() == scores["first_predictions"]
    assert hashlib.sha256(predicted.astype(np.uint8).tobytes()).hexdigest() == scores["predictions_sha256"]
    assert int((predicted == labels).sum()) == scores["correct"]
    probabilities = np.asarray(model.predict_proba(images), dtype=np.float64)
    np.testing.assert_allclose(probabilities[:3], scores["first_probabilities"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=0), scores["probability_column_sums"], rtol=1e-5)


@pytest.mark.parametrize("name", FILES)
def test_cli_reads_it_as_0_1(name: str, mnist: Dataset) -> None:
    expected = EXPECTED["files"][name]
    path = FIXTURES / name
    data_dir = ["--data-dir", FIXTURES] if on_csv(name) else []  # MNIST comes from NETKIT_DATA
    report = json.loads(run_cli("evaluate", path, *data_dir, "--json", "--no-download"))
    assert report["n"] == expected["cli_evaluate"]["n"]
    assert report["accuracy"] == expected["cli_evaluate"]["accuracy"]
    assert report["loss"] == pytest.approx(expected["cli_evaluate"]["loss"], rel=LOSS_RTOL)
    shown = run_cli("inspect", path)
    assert expected["architecture"] in shown
    assert f"{expected['epochs']} epochs" in shown


@pytest.mark.parametrize("name", RESUMABLE)
def test_resumes_one_epoch_as_0_1(name: str, mnist: Dataset, csv_data: Dataset, tmp_path: Path) -> None:
    model = nk.load(FIXTURES / name)
    images, labels = training_rows(name, mnist, csv_data)
    history = model.fit(images, labels, epochs=1, progress=False)
    check_epoch(model, history, EXPECTED["files"][name]["resume"], tmp_path)


@pytest.mark.parametrize("name", [name for name in RESUMABLE if on_csv(name)])
def test_cli_resumes_one_epoch_as_0_1(name: str, tmp_path: Path) -> None:
    copy = tmp_path / name
    shutil.copyfile(FIXTURES / name, copy)
    run_cli("train", "--resume", "--out", copy, "--epochs", "1", "--data-dir", FIXTURES, "--quiet")
    model = nk.load(copy)
    check_epoch(model, model.history, EXPECTED["files"][name]["resume"], tmp_path)
