"""Plugin discovery over ``importlib.metadata`` entry points.

Built-in plugins are declared in netkit's own pyproject exactly like a third party's, so every run goes
through this module. A plugin entry point names a class; the class is built from a config mapping with its
``from_config`` classmethod and describes itself with ``get_config`` (see :mod:`netkit.protocols`).

A spec is what a user types: ``"leaky-relu"`` or ``"leaky-relu:slope=0.1"`` or, from a file, the mapping
``{"type": "leaky-relu", "slope": 0.1}``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import attrs

from netkit.errors import PluginError
from netkit.model.fast import textbook_class
from netkit.plugin_options import accepted_options, plugin_options, unknown_option_message

GROUPS: dict[str, str] = {
    "layers": "netkit.layers",
    "activations": "netkit.activations",
    "losses": "netkit.losses",
    "optimizers": "netkit.optimizers",
    "datasets": "netkit.datasets",
    "augmentations": "netkit.augmentations",
    "schedules": "netkit.schedules",
}


# How one plugin of each group is called in messages.
KINDS: dict[str, str] = {
    "layers": "layer",
    "activations": "activation",
    "losses": "loss",
    "optimizers": "optimizer",
    "datasets": "dataset",
    "augmentations": "augmentation",
    "schedules": "schedule",
}


class PluginWarning(UserWarning):
    """A third-party plugin could not be loaded; everything else keeps working."""


@attrs.frozen
class PluginInfo:
    """One registered plugin as ``netkit plugins`` shows it."""

    group: str
    name: str
    target: str
    distribution: str
    version: str
    error: str | None = None

    @property
    def loaded(self) -> bool:
        return self.error is None


def _distribution_of(entry_point: EntryPoint) -> tuple[str, str]:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return "unknown", ""
    return str(dist.metadata["Name"]), str(dist.version)


def textbook_twin(cls: type) -> type | None:
    """The textbook form of a fast plugin class (the textbook class it derives from), or None if it is one."""
    twin = textbook_class(cls)
    return None if twin is cls else twin


class Registry:
    """Loads the plugins of each group once, on first use, and builds instances from specs.

    With ``textbook=True`` it builds each plugin as its textbook class (see :mod:`netkit.model.fast`);
    plugins without a fast form are built as they are.
    """

    def __init__(self, extra: Mapping[str, Mapping[str, type]] | None = None, textbook: bool = False) -> None:
        self.textbook = textbook
        self._classes: dict[str, dict[str, type]] = {}
        self._infos: dict[str, list[PluginInfo]] = {}
        # Classes registered in-process (tests, notebooks) without a distribution.
        self._extra = {group: dict(plugins) for group, plugins in (extra or {}).items()}

    def _load_group(self, group: str) -> dict[str, type]:
        if group in self._classes:
            return self._classes[group]
        if group not in GROUPS:
            raise PluginError(f"unknown plugin group {group!r}; groups: {', '.join(GROUPS)}")
        classes: dict[str, type] = {}
        infos: list[PluginInfo] = []
        for entry_point in sorted(entry_points(group=GROUPS[group]), key=lambda ep: ep.name):
            dist_name, dist_version = _distribution_of(entry_point)
            if entry_point.name in classes:
                continue  # the same distribution seen twice on sys.path (e.g. editable + build dir)
            try:
                loaded = entry_point.load()
                if not isinstance(loaded, type):
                    raise TypeError(f"entry point must name a class, got {type(loaded).__name__}")
            except Exception as exc:  # a broken plugin must not take the CLI down with it
                message = f"{type(exc).__name__}: {exc}"
                warnings.warn(
                    f"netkit plugin {entry_point.name!r} ({group}) from distribution {dist_name!r} "
                    f"failed to load: {message}",
                    PluginWarning,
                    stacklevel=2,
                )
                infos.append(PluginInfo(group, entry_point.name, entry_point.value, dist_name, dist_version, message))
                continue
            classes[entry_point.name] = loaded
            infos.append(PluginInfo(group, entry_point.name, entry_point.value, dist_name, dist_version))
        for name, cls in self._extra.get(group, {}).items():
            classes[name] = cls
            infos.append(PluginInfo(group, name, f"{cls.__module__}:{cls.__qualname__}", "(in-process)", ""))
        self._classes[group] = classes
        self._infos[group] = infos
        return classes

    def textbook_form(self) -> Registry:
        """A registry with the same plugins that builds their textbook twins (see ``netkit train --textbook``)."""
        twin = Registry(self._extra, textbook=True)
        for group in list(self._classes):
            twin._classes[group] = dict(self._classes[group])
            twin._infos[group] = list(self._infos[group])
        return twin

    def register(self, group: str, name: str, cls: type) -> None:
        """Add a plugin class in-process, without an installed distribution."""
        self._load_group(group)
        self._classes[group][name] = cls
        self._infos[group].append(PluginInfo(group, name, f"{cls.__module__}:{cls.__qualname__}", "(in-process)", ""))

    def names(self, group: str) -> list[str]:
        """The names users can type for a group, sorted."""
        return sorted(self._load_group(group))

    def get(self, group: str, name: str) -> type:
        classes = self._load_group(group)
        try:
            return classes[name]
        except KeyError:
            broken = [info for info in self._infos[group] if info.name == name and not info.loaded]
            if broken:
                raise PluginError(
                    f"{KINDS[group]} plugin {name!r} from {broken[0].distribution!r} failed to load: {broken[0].error}"
                ) from None
            available = ", ".join(sorted(classes)) or "none installed"
            raise PluginError(f"unknown {KINDS[group]} {name!r}; available: {available}") from None

    @contextlib.contextmanager
    def active(self) -> Iterator[Registry]:
        """Make this the registry that :func:`active_registry` returns, e.g. while a plugin builds its parts."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    def create(self, group: str, spec: str | Mapping[str, Any]) -> Any:
        """Build a plugin instance from ``"name:key=value,..."`` or ``{"type": name, **config}``.

        While it is built, this registry is the active one, so a plugin that builds nested plugins (a layer
        its activation) resolves them here too.
        """
        name, config = parse_spec(spec)
        cls = self.get(group, name)
        accepted = accepted_options(cls)
        unknown = set(config) - accepted if accepted is not None else set()
        if unknown:
            raise PluginError(unknown_option_message(KINDS[group], name, unknown, plugin_options(cls) or {}))
        try:
            with self.active():
                plugin = cls.from_config(config)  # type: ignore[attr-defined]
                twin = textbook_twin(cls) if self.textbook else None
                return plugin if twin is None else twin.from_config(plugin.get_config())  # type: ignore[attr-defined]
        except (TypeError, ValueError) as exc:  # unknown option names, and validators' "Received: ..." messages
            raise PluginError(f"bad options for {KINDS[group]} {name!r}: {exc}") from None

    def name_of(self, group: str, obj: object) -> str:
        """The registered name of ``obj``'s class, or of the class whose textbook twin it is (to write configs)."""
        for name, cls in self._load_group(group).items():
            if type(obj) is cls or type(obj) is textbook_twin(cls):
                return name
        raise PluginError(f"{type(obj).__qualname__} is not a registered {KINDS[group]} plugin")

    def spec_of(self, group: str, obj: Any) -> dict[str, Any]:
        """``{"type": name, **config}``: the JSON form that :meth:`create` reads back."""
        with self.active():
            return {"type": self.name_of(group, obj), **obj.get_config()}

    def describe(self) -> list[PluginInfo]:
        """Every plugin of every group, loaded or broken."""
        result: list[PluginInfo] = []
        for group in GROUPS:
            self._load_group(group)
            result.extend(self._infos[group])
        return result


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a bare word such as a file name or a mode


def parse_spec(spec: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split a plugin spec into its name and its config mapping."""
    if isinstance(spec, Mapping):
        mapping = dict(spec)
        plugin_name = mapping.pop("type", None)
        if not isinstance(plugin_name, str):
            raise PluginError(f"a plugin spec mapping needs a 'type' name, got {dict(spec)!r}")
        return plugin_name, mapping
    name, _, options = spec.partition(":")
    name = name.strip()
    if not name:
        raise PluginError(f"empty plugin name in {spec!r}")
    config: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PluginError(f"bad plugin option {item!r} in {spec!r}; expected key=value")
        config[key.strip().replace("-", "_")] = _parse_value(value.strip())
    return name, config


def format_spec(name: str, config: Mapping[str, Any]) -> str:
    """The inverse of :func:`parse_spec`, as a user would type it: ``leaky-relu:slope=0.1``."""
    if not config:
        return name
    return name + ":" + ",".join(f"{key}={_shown(value)}" for key, value in config.items())


def _shown(value: Any) -> str:
    """A spec value as typed: words bare (``padding=same``), everything else as JSON (``true``, ``[1, 2]``)."""
    return value if isinstance(value, str) and value and "," not in value and ":" not in value else json.dumps(value)


@functools.lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The process-wide registry of installed plugins."""
    return Registry()


_ACTIVE: ContextVar[Registry | None] = ContextVar("netkit_active_registry", default=None)


def active_registry() -> Registry:
    """The registry building or describing a plugin right now, else :func:`default_registry`.

    Plugins that hold other plugins (``dense`` holds an activation) look names up here.
    """
    return _ACTIVE.get() or default_registry()


def iter_plugins(registry: Registry, groups: Iterable[str] = GROUPS) -> Iterable[tuple[str, str, type]]:
    """(group, name, class) for every loaded plugin: what conformance tests walk over."""
    for group in groups:
        for name in registry.names(group):
            yield group, name, registry.get(group, name)
