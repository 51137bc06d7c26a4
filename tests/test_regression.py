"""Regression works end to end: float targets with the mse loss and identity outputs in ``fit``, ``evaluate``
and ``predict``, saved and loaded, and as a scikit-learn regressor."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # as in test_sklearn.py, before SciPy loads

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import netkit as nk
from netkit.bridges.sklearn import MLPRegressor
from netkit.model.evaluation import RegressionEvaluation


def _plane(rows: int = 1000, seed: int = 0) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """y = 2 x0 - x1 + 0.5 x2: a linear network can fit it exactly."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (rows, 3)).astype(np.float32)
    return x, x @ np.array([2.0, -1.0, 0.5]) + 0.1


def _linear(outputs: int = 1) -> nk.Sequential:
    return nk.Sequential([nk.Dense(outputs, "identity")], loss="mse", input_size=3, seed=0)


def test_float_targets_fit_evaluate_and_predict_values() -> None:
    x, y = _plane()
    model = _linear()
    history = model.fit(x, y, epochs=30, optimizer="mini-batch", learning_rate=0.2, progress=False)
    assert history.loss[-1] < history.loss[0] / 20
    assert set(history.history) == {"loss", "val_loss"}  # no accuracy without classes
    scores = model.evaluate(x, y)
    assert isinstance(scores, RegressionEvaluation) and scores.r2 > 0.99 and scores.mean_absolute_error < 0.05
    loss, mae = scores
    assert (loss, mae) == (scores.loss, scores.mean_absolute_error)
    predicted = model.predict(x[:5])
    assert predicted.shape == (5, 1) and np.allclose(predicted.ravel(), y[:5], atol=0.1)


def test_several_targets_and_a_hidden_layer() -> None:
    x, y = _plane()
    both = np.stack([y, np.sin(3 * x[:, 0])], axis=1)
    model = nk.Sequential([nk.Dense(32, "tanh"), nk.Dense(2, "identity")], loss="mse", seed=0)
    model.fit(x, both, epochs=40, optimizer="adam", learning_rate=0.01, progress=False)
    assert model.predict(x).shape == (1000, 2) and model.evaluate(x, both).r2 > 0.95


def test_a_saved_regressor_loads_and_continues_as_one(tmp_path: Path) -> None:
    x, y = _plane()
    model = _linear()
    model.fit(x, y, epochs=2, optimizer="mini-batch", learning_rate=0.2, progress=False)
    model.save(tmp_path / "r.h5")
    again = nk.load(tmp_path / "r.h5")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    again.fit(x, y, epochs=1, progress=False)
    with pytest.raises(nk.ConfigError, match="fitted on float values"):
        again.fit(x, (y > 1).astype(np.int64), epochs=1)


def test_whole_numbers_stored_as_floats_are_class_labels_for_a_classifier() -> None:
    x, _ = _plane()
    classes = (x[:, 0] > 0.5).astype(np.float64)  # 0.0 and 1.0, as a pandas column may hold them
    model = nk.Sequential([nk.Dense(2, "softmax")], input_size=3, seed=0)
    model.fit(x, classes, epochs=20, learning_rate=1.0, progress=False)
    assert "targets" not in model.training and model.predict(x).dtype == np.int64
    assert model.evaluate(x, classes.astype(np.int64)).accuracy > 0.9


def test_float_targets_of_the_wrong_shape_are_refused() -> None:
    x, y = _plane()
    with pytest.raises(nk.ConfigError, match=r"expected shape \(1000, 2\)"):
        _linear(2).fit(x, y, epochs=1)


QUICK = {"hidden_layer_sizes": (8,), "epochs": 3, "learning_rate": 0.05, "random_state": 0}


@parametrize_with_checks([MLPRegressor(**QUICK)])
def test_scikit_learn_regressor_checks(estimator: Any, check: Any) -> None:
    check(estimator)


def test_the_scikit_learn_regressor_learns_and_cross_validates() -> None:
    x, y = _plane(600)
    regressor = MLPRegressor((16,), activation="tanh", epochs=30, learning_rate=0.01, random_state=0)
    assert regressor.fit(x, y).score(x, y) > 0.95 and regressor.predict(x).shape == (600,)
    assert cross_val_score(regressor, x, y, cv=3).mean() > 0.9
