"""``netkit.bridges.sklearn.MLPClassifier`` and ``MLPRegressor``: netkit networks as scikit-learn estimators.

It follows scikit-learn's conventions (``hidden_layer_sizes``, ``random_state``, fitted attributes ending in
an underscore, ``partial_fit``), so it drops into a ``Pipeline``, ``GridSearchCV`` or ``cross_val_score``
with inputs of any width and labels of any kind. Training is netkit's, with netkit's run semantics: the
seed scheme of ``netkit train`` seeded from ``random_state``.

Defaults differ from scikit-learn's ``MLPClassifier`` in two places, both for speed on small machines:
``epochs=20`` where scikit-learn runs up to 200 iterations with early stopping, and batches of 32 where it
uses up to 200. ``activation="logistic"`` is accepted as scikit-learn's name for ``sigmoid``. Inputs are not
held to [0, 1] (no :class:`~netkit.errors.InputRangeWarning`): pipelines scale features their own way, and a
``StandardScaler`` gives negative values on purpose.

Beyond scikit-learn's dense stacks, ``layers`` takes any netkit layer specs (convolutions and pooling too)
and ``image_shape`` says how each flat row of ``X`` is an image, so a conv net fits on the (n, 784) rows
scikit-learn passes around: ``MLPClassifier(layers=["conv2d:filters=8,kernel=5", "maxpool2d:size=2",
"dense:units=64,activation=relu"], image_shape=(1, 28, 28))``.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # an optional extra: say how to get it
    raise ImportError(
        "netkit.bridges.sklearn needs scikit-learn 1.6 or later: pip install 'netkit-nn[sklearn]'"
    ) from exc

from netkit.errors import ConfigError, InputRangeWarning, PluginError
from netkit.model.arguments import whole_number
from netkit.model.layer import Layer, shape_of
from netkit.model.sequential import Sequential
from netkit.model.specs import dense_stack
from netkit.protocols import Optimizer
from netkit.registry import active_registry

# scikit-learn's activation names that netkit spells differently.
ACTIVATION_ALIASES = {"logistic": "sigmoid"}


class _NetworkEstimator(BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no type hints
    """What the classifier and the regressor share: their parameters, and building and training the network.

    Parameters are those of :meth:`netkit.Sequential.fit` under scikit-learn's names: ``optimizer`` is a
    netkit optimiser spec or instance (``"adam"``, ``"momentum:beta=0.8"``), ``epochs`` the passes over the
    data per ``fit`` (``partial_fit`` makes one), ``validation`` the rows held out to report validation loss.
    ``layers``, when given, replaces ``hidden_layer_sizes`` and ``activation``: the hidden layers as netkit
    layer specs or instances (the output layer is added: softmax for the classifier, identity for the
    regressor). ``image_shape`` is one sample's shape, such as ``(1, 28, 28)`` (channels, height, width), for
    rows that are flattened images; the default takes rows as they are.
    """

    network_: Sequential

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Mapping[str, Any] = "relu",
        optimizer: str | Mapping[str, Any] | Optimizer = "adam",
        batch_size: int = 32,
        learning_rate: float = 0.001,
        epochs: int = 20,
        validation: float | int = 0.0,
        random_state: int | np.random.RandomState | None = None,
        verbose: bool = False,
        layers: Sequence[str | Mapping[str, Any] | Layer] | None = None,
        image_shape: Sequence[int] | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.validation = validation
        self.random_state = random_state
        self.verbose = verbose
        self.layers = layers
        self.image_shape = image_shape

    @property
    def loss_curve_(self) -> list[float]:
        check_is_fitted(self)
        return [float(value) for value in self.network_.history.loss]

    def _new_network(
        self, n_features: int, n_outputs: int, output: str, loss: str, dtype: type[np.floating[Any]] = np.float32
    ) -> Sequential:
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        layers = [*self._hidden_layers(), *dense_stack([n_outputs], output)]
        return Sequential(layers, loss, input_shape=self._input_shape(n_features), seed=seed, dtype=dtype)

    def _hidden_layers(self) -> list[str | Mapping[str, Any]]:
        if self.layers is not None:
            if isinstance(self.layers, str | Mapping | Layer):
                raise ConfigError(f"layers must be a list of layer specs. Received: layers={self.layers!r}")
            # An instance is copied through its spec: each fit builds its own layers, as a clone expects.
            registry = active_registry()
            return [registry.spec_of("layers", item) if isinstance(item, Layer) else item for item in self.layers]
        activation = self.activation
        if isinstance(activation, str):
            activation = ACTIVATION_ALIASES.get(activation, activation)
        sizes = [self.hidden_layer_sizes] if isinstance(self.hidden_layer_sizes, int) else self.hidden_layer_sizes
        return list(dense_stack(list(sizes), activation))

    def _input_shape(self, n_features: int) -> tuple[int, ...]:
        if self.image_shape is None:
            return (n_features,)
        shape = shape_of(self.image_shape, "image_shape")
        if math.prod(shape) != n_features:
            raise ConfigError(
                f"image_shape={self.image_shape!r} holds {math.prod(shape)} values, but each row of X has {n_features}"
            )
        return shape

    def _train(self, X: np.ndarray[Any, Any], targets: np.ndarray[Any, Any], epochs: int) -> None:
        """``epochs`` epochs on class numbers (int64) or rows of values (float)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputRangeWarning)  # scaled by the pipeline, see the module's notes
            self.network_.fit(
                X,
                targets,
                epochs,
                optimizer=self.optimizer,
                batch_size=self.batch_size,
                learning_rate=self.learning_rate,
                validation=self.validation or None,
                progress=bool(self.verbose),
            )


class MLPClassifier(ClassifierMixin, _NetworkEstimator):  # type: ignore[misc]
    """A feed-forward classifier: ``MLPClassifier((16, 16), activation="logistic").fit(X, y)``.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``network_`` (the :class:`netkit.Sequential`),
    ``loss_curve_`` (training loss per epoch) and ``validation_scores_`` (validation accuracy per epoch).
    """

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train a new network for ``epochs`` epochs on rows ``X`` and labels ``y``."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        with _as_value_errors():
            self.network_ = self._new_network(X.shape[1], len(self.classes_), "softmax", "cross-entropy")
            self._train(X, encoded.astype(np.int64), whole_number(self.epochs, "epochs", 1))
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One more epoch on ``X``, ``y``; the first call needs ``classes`` (every label there will ever be)."""
        first = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("the first call to partial_fit needs classes=, every label that may occur")
            self.classes_ = np.unique(classes)
            with _as_value_errors():
                self.network_ = self._new_network(X.shape[1], len(self.classes_), "softmax", "cross-entropy")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={classes!r} differ from the classes of the first call, {self.classes_!r}")
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"labels {unknown!r} are not among classes_ {self.classes_!r}")
        with _as_value_errors():
            self._train(X, np.searchsorted(self.classes_, y).astype(np.int64), 1)
        return self

    def predict_proba(self, X: Any) -> np.ndarray[Any, Any]:
        """Class probabilities, one row per sample and one column per entry of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        probabilities: np.ndarray[Any, Any] = self.network_.predict_proba(X, warn_range=False).astype(np.float64)
        # float32 softmax rows sum to 1 within 1e-7; scikit-learn holds them to float64's 1.
        normalised: np.ndarray[Any, Any] = probabilities / probabilities.sum(axis=1, keepdims=True)
        return normalised

    def predict(self, X: Any) -> np.ndarray[Any, Any]:
        """The most likely class of each row, as one of ``classes_``."""
        check_is_fitted(self)
        result: np.ndarray[Any, Any] = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return result

    @property
    def validation_scores_(self) -> list[float]:
        check_is_fitted(self)
        return [float(value) for value in self.network_.history.val_accuracy]


class MLPRegressor(RegressorMixin, _NetworkEstimator):  # type: ignore[misc]
    """A feed-forward regressor: ``MLPRegressor((64,), activation="relu").fit(X, y)``, for one target
    (``y`` of shape ``(n,)``) or several (``(n, targets)``).

    The network ends in one ``identity`` unit per target and learns with the ``mse`` loss; ``score`` is R².
    Fitted attributes: ``n_features_in_``, ``n_outputs_``, ``network_`` and ``loss_curve_``. Targets far
    from 1 in size learn best scaled (``TransformedTargetRegressor`` with a ``StandardScaler``).
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # several targets: one identity unit each
        return tags

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train a new network for ``epochs`` epochs on rows ``X`` and target values ``y``."""
        return self._fit(X, y, whole_number(self.epochs, "epochs", 1))

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One more epoch on ``X``, ``y`` (the first call builds the network)."""
        if not hasattr(self, "network_"):
            return self._fit(X, y, 1)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], multi_output=True, reset=False)
        with _as_value_errors():
            self._train(X, self._rows(y), 1)
        return self

    def predict(self, X: Any) -> np.ndarray[Any, Any]:
        """The predicted values: shape ``(n,)`` for one target, ``(n, targets)`` for several."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        values: np.ndarray[Any, Any] = self.network_.predict_proba(X, warn_range=False).astype(np.float64)
        return values.ravel() if self.one_target_ else values

    def _fit(self, X: Any, y: Any, epochs: int) -> MLPRegressor:
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True)
        self.one_target_ = np.ndim(y) == 1
        self.n_outputs_ = 1 if self.one_target_ else int(np.shape(y)[1])
        with _as_value_errors():
            # float64, as scikit-learn's own MLPRegressor: values (unlike class choices) show float32's
            # rounding, which differs with the number of rows multiplied at once.
            self.network_ = self._new_network(X.shape[1], self.n_outputs_, "identity", "mse", np.float64)
            self._train(X, self._rows(y), epochs)
        return self

    def _rows(self, y: Any) -> np.ndarray[Any, Any]:
        """``y`` as float rows, one value per output: what the network regresses onto."""
        values = np.asarray(y, dtype=np.float64)
        if values.ndim != (1 if self.one_target_ else 2) or values.size != len(values) * self.n_outputs_:
            raise ValueError(f"y has shape {values.shape}; this regressor was fitted on {self.n_outputs_} target(s)")
        return values.reshape(len(values), self.n_outputs_)


@contextlib.contextmanager
def _as_value_errors() -> Iterator[None]:
    """scikit-learn's tools expect a ValueError for a bad parameter; netkit's message is kept."""
    try:
        yield
    except (ConfigError, PluginError) as exc:
        raise ValueError(str(exc)) from None
