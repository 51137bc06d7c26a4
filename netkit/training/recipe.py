"""The training extras a run records in its file's ``training`` options, and building them back.

``augment`` (a list of augmentation specs), ``schedule`` (a schedule spec) and ``dropout`` (a rate) are part
of what a run *is*: a resumed run rebuilds them from the file, so it draws the same transforms and steps
with the same rates as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netkit.errors import ConfigError, NetkitError
from netkit.registry import Registry, default_registry
from netkit.training.augmentation import Augmenter, parse_chain
from netkit.training.trainer import Trainer


def augmentation_specs(chain: str | Sequence[Any] | None, registry: Registry | None = None) -> list[dict[str, Any]]:
    """``"shift:pixels=2,rotate"`` (or a list of specs) as canonical specs, defaults included."""
    if not chain:
        return []
    registry = registry or default_registry()
    items = parse_chain(chain) if isinstance(chain, str) else list(chain)
    return [registry.spec_of("augmentations", _create(registry, "augmentations", item)) for item in items]


def schedule_spec(spec: str | Mapping[str, Any] | None, epochs: int, registry: Registry | None = None) -> Any:
    """The canonical schedule spec, or None for a constant rate; a cosine without ``epochs`` spans ``epochs``."""
    if spec is None:
        return None
    registry = registry or default_registry()
    schedule = _create(registry, "schedules", spec)
    canonical = registry.spec_of("schedules", schedule)
    if canonical["type"] == "cosine" and "epochs" not in _options(spec):
        canonical["epochs"] = epochs
    return canonical


def attach(trainer: Trainer, training: Mapping[str, Any], registry: Registry | None = None) -> None:
    """Give ``trainer`` the augmentation and schedule that the run's ``training`` options record."""
    registry = registry or default_registry()
    specs = training.get("augment") or []
    trainer.augment = Augmenter([_create(registry, "augmentations", spec) for spec in specs]) if specs else None
    schedule = training.get("schedule")
    trainer.schedule = _create(registry, "schedules", schedule) if schedule else None


def _options(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    from netkit.registry import parse_spec

    return parse_spec(spec)[1]


def _create(registry: Registry, group: str, spec: Any) -> Any:
    try:
        return registry.create(group, spec)
    except NetkitError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad {group[:-1]} {spec!r}: {exc}") from None
