"""``netkit.bridges.sklearn.MLPClassifier`` against scikit-learn's own estimator checks, and inside its tools."""

from __future__ import annotations

import os
from typing import Any

# scikit-learn's array-API check (NumPy inputs with array-API dispatch on) needs this before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from netkit.bridges.sklearn import MLPClassifier
from netkit.data import Dataset

# Small and quick: the checks fit a few hundred times on tiny data. Every check is expected to pass.
QUICK = {"hidden_layer_sizes": (8,), "epochs": 3, "learning_rate": 0.05, "random_state": 0}


@parametrize_with_checks([MLPClassifier(**QUICK)])
def test_scikit_learn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)


def test_in_a_pipeline_on_64_pixel_digits() -> None:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    pipeline = make_pipeline(StandardScaler(), MLPClassifier((32,), epochs=15, learning_rate=0.01, random_state=0))
    pipeline.fit(X[:1200], y[:1200])
    assert pipeline.score(X[1200:], y[1200:]) > 0.9
    probabilities = pipeline.predict_proba(X[1200:1210])
    assert probabilities.shape == (10, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_grid_search_and_cross_validation_on_four_features_with_string_labels() -> None:
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier(epochs=30, random_state=0)),
        {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)], "mlpclassifier__learning_rate": [0.001, 0.01]},
        cv=3,
    )
    search.fit(X, names)
    assert search.best_params_["mlpclassifier__learning_rate"] == 0.01  # the larger step learns in 30 epochs
    assert search.best_score_ > 0.85
    assert set(search.predict(X[:5])) <= set(names)
    scores = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier((16,), epochs=30, learning_rate=0.01)), X, y)
    assert scores.shape == (5,) and scores.mean() > 0.85


def test_partial_fit_adds_one_epoch_and_scores_as_accuracy() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    classifier = MLPClassifier((8,), learning_rate=0.02, random_state=1)
    for _ in range(10):
        classifier.partial_fit(X, y, classes=[0, 1])
    assert len(classifier.loss_curve_) == 10 and classifier.loss_curve_[-1] < classifier.loss_curve_[0]
    assert classifier.score(X, y) == np.mean(classifier.predict(X) == y) > 0.9
    with pytest.raises(ValueError, match="needs classes="):
        MLPClassifier().partial_fit(X, y)


def test_the_seed_net_on_mnist_through_scikit_learn(mnist: Dataset) -> None:
    classifier = MLPClassifier((16, 16), activation="logistic", optimizer="mini-batch", learning_rate=0.5, epochs=2)
    classifier.fit(mnist.train_images[:20_000], mnist.train_labels[:20_000])
    assert repr(classifier.network_) == "784-16-16-10 (sigmoid, softmax)"
    assert classifier.score(mnist.test_images, mnist.test_labels) > 0.85


def test_bad_parameters_are_value_errors() -> None:
    X, y = np.zeros((10, 2)), np.arange(10) % 2
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        MLPClassifier(epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        MLPClassifier(activation="swishy").fit(X, y)


SMALL_CONV = ["conv2d:filters=4,kernel=3,padding=same", "maxpool2d:size=2", "dense:units=32,activation=relu"]


def test_a_conv_net_fits_flat_rows_given_their_image_shape() -> None:
    from sklearn.base import clone
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)  # 8x8 digits as rows of 64 values, 0 to 16
    X = X / 16.0
    classifier = MLPClassifier(layers=SMALL_CONV, image_shape=(1, 8, 8), epochs=10, learning_rate=0.01, random_state=0)
    classifier.fit(X[:1200], y[:1200])
    assert repr(classifier.network_) == "1x8x8 conv4@3x3(same) pool2 32-10 (relu, softmax)"
    assert classifier.score(X[1200:], y[1200:]) > 0.9
    twin = clone(classifier)
    assert twin.get_params() == classifier.get_params() and not hasattr(twin, "network_")
    twin.fit(X[:1200], y[:1200])
    np.testing.assert_array_equal(twin.predict_proba(X[1200:]), classifier.predict_proba(X[1200:]))


def test_layers_given_as_instances_build_afresh_for_each_fit() -> None:
    import netkit as nk

    X, y = np.random.default_rng(0).uniform(0, 1, (40, 36)), np.arange(40) % 2
    layers = [nk.layer("conv2d", filters=2, kernel=3), nk.layer("dense", units=4, activation="relu")]
    first = MLPClassifier(layers=layers, image_shape=(1, 6, 6), epochs=1, random_state=0).fit(X, y)
    second = MLPClassifier(layers=layers, image_shape=(1, 6, 6), epochs=1, random_state=0).fit(X, y)
    assert first.network_.layers[0] is not second.network_.layers[0] is not layers[0]
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_an_image_shape_that_does_not_match_the_rows_is_a_value_error() -> None:
    X, y = np.zeros((10, 64)), np.arange(10) % 2
    with pytest.raises(ValueError, match=r"image_shape=\(1, 28, 28\) holds 784 values, but each row of X has 64"):
        MLPClassifier(layers=SMALL_CONV, image_shape=(1, 28, 28)).fit(X, y)
    with pytest.raises(ValueError, match=r"layer 1 .*conv2d.* on input \(64,\)"):
        MLPClassifier(layers=SMALL_CONV).fit(X, y)
