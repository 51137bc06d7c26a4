"""Plugin instances by name for the Python API: ``nk.Dense(16, "relu")``, ``nk.optimizer("adam", learning_rate=0.01)``.

Every plugin is found through the registry (the core never imports a plugin module), so a third party's
activation works here by name exactly like a built-in one. Wherever netkit takes a plugin it takes a spec
string too; these are for when an object reads better or options are many.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from netkit.errors import PluginError
from netkit.protocols import Activation, Layer, Loss, Optimizer
from netkit.registry import GROUPS, Registry, active_registry, parse_spec


def _create(group: str, spec: str | Mapping[str, Any], options: dict[str, Any], registry: Registry | None) -> Any:
    registry = registry or active_registry()
    name, config = parse_spec(spec)
    given = {key: _as_spec(value, registry) for key, value in options.items()}
    return registry.create(group, {"type": name, **config, **given})


def _as_spec(value: Any, registry: Registry) -> Any:
    """An option that is a plugin instance (``activation=nk.activation("relu")``) as its spec mapping."""
    if value is None or isinstance(value, str | int | float | bool | Mapping | list | tuple):
        return value
    for group in GROUPS:
        with contextlib.suppress(PluginError):
            return registry.spec_of(group, value)
    return value  # not a plugin: the plugin's own validation says what is wrong


def Dense(  # noqa: N802  (named like the layer class it builds, as Keras users expect)
    units: int,
    activation: Activation | str | Mapping[str, Any] = "sigmoid",
    init: str | None = None,
    registry: Registry | None = None,
) -> Layer:
    """A fully connected layer of ``units`` units; ``init`` is ``"xavier"`` or ``"he"`` (default: as suits
    the activation)."""
    registry = registry or active_registry()
    active = activation if not isinstance(activation, str | Mapping) else registry.create("activations", activation)
    spec: dict[str, Any] = {"type": DENSE, "units": units, "activation": registry.spec_of("activations", active)}
    if init is not None:
        spec["init"] = init
    layer_instance: Layer = registry.create("layers", spec)
    return layer_instance


# The layer plugins behind the shorthands (--layers 16,16 and hidden_layer_sizes; --dropout), named once.
DENSE = "dense"
DROPOUT = "dropout"


def dropout_spec(rate: float) -> dict[str, Any]:
    return {"type": DROPOUT, "rate": rate}


def dense_stack(widths: Sequence[int], activation: Any, registry: Registry | None = None) -> list[dict[str, Any]]:
    """``--layers 16,16`` (or ``hidden_layer_sizes``) as layer specs: one dense layer per width."""
    registry = registry or active_registry()
    active = activation if not isinstance(activation, str | Mapping) else registry.create("activations", activation)
    spec = registry.spec_of("activations", active)
    return [{"type": DENSE, "units": int(units), "activation": spec} for units in widths]


def layer(spec: str | Mapping[str, Any], registry: Registry | None = None, **options: Any) -> Layer:
    """Any registered layer: ``nk.layer("dense", units=8, activation="tanh")``."""
    result: Layer = _create("layers", spec, options, registry)
    return result


def activation(spec: str | Mapping[str, Any], registry: Registry | None = None, **options: Any) -> Activation:
    """``nk.activation("leaky-relu", slope=0.1)``."""
    result: Activation = _create("activations", spec, options, registry)
    return result


def loss(spec: str | Mapping[str, Any], registry: Registry | None = None, **options: Any) -> Loss:
    """``nk.loss("mse")``."""
    result: Loss = _create("losses", spec, options, registry)
    return result


def optimizer(spec: str | Mapping[str, Any], registry: Registry | None = None, **options: Any) -> Optimizer:
    """``nk.optimizer("adam", learning_rate=0.001, batch_size=64)``."""
    result: Optimizer = _create("optimizers", spec, options, registry)
    return result
