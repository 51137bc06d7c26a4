"""Option types shared by the commands: plugin specs checked against the registry, layer lists, numbers.

Plugin names are looked up when a command runs, never at import time, so a plugin installed after netkit
shows up in ``--help`` and is accepted like a built-in. An unknown name or bad plugin option is a usage
error (exit 2) that lists the available names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from netkit.errors import NetkitError
from netkit.registry import default_registry, parse_spec

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # newer clicks type a ParamType by the value it converts to; at run time any click works
    _TextType = click.ParamType[str]
    _SizesType = click.ParamType[list[int]]
    _FloatType = click.ParamType[float]
    _SizeType = click.ParamType[float | int]
else:
    _TextType = _SizesType = _FloatType = _SizeType = click.ParamType


def plugin_names(group: str) -> list[str]:
    return default_registry().names(group)


class PluginSpec(_TextType):
    """``name`` or ``name:key=value,...`` for a plugin of ``group``; the value stays the spec string.

    The name must be registered, and the options must build the plugin (which is cheap: a dataset loader
    reads nothing until it is asked to load).
    """

    def __init__(self, group: str) -> None:
        self.group = group
        self.name = f"{group[:-1]} spec"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "NAME[:KEY=VALUE,...]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        spec = str(value)
        try:
            name, _ = parse_spec(spec)
            default_registry().get(self.group, name)  # unknown or broken: its error lists what is available
            default_registry().create(self.group, spec)
        except (NetkitError, TypeError, ValueError) as exc:
            self.fail(str(exc), param, ctx)
        return spec

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(name) for name in plugin_names(self.group) if name.startswith(incomplete)]


class DynamicHelpOption(click.Option):
    """An option whose help text ends with ``more()``, computed when help is shown (plugins may change it)."""

    def __init__(self, *args: Any, more: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.more = more

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        base = self.help
        try:
            extra = self.more()
        except NetkitError as exc:  # a broken registry must not break --help
            extra = f"(cannot list plugins: {exc})"
        self.help = f"{base or ''} {extra}".strip()
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = base


def installed(group: str) -> Callable[[], str]:
    return lambda: f"Installed: {', '.join(plugin_names(group)) or 'none'}."


def plugin_option(*names: str, group: str, **kwargs: Any) -> Callable[[F], F]:
    """``@plugin_option("--activation", group="activations", default="sigmoid", help=...)``."""
    spec = PluginSpec(group)
    return click.option(*names, cls=DynamicHelpOption, more=installed(group), type=spec, **kwargs)


def optimizer_defaults(key: str) -> Callable[[], str]:
    """``mini-batch 0.5, adam 0.001, ...``: each installed optimizer's own default for ``key``."""

    def describe() -> str:
        registry = default_registry()
        defaults = []
        for name in registry.names("optimizers"):
            try:
                value = registry.create("optimizers", name).get_config().get(key)
            except (NetkitError, TypeError, ValueError):
                continue
            if value is not None:
                defaults.append(f"{name} {value}")
        return f"[default: the optimizer's own: {', '.join(defaults)}]"

    return describe


def parse_layers(text: str) -> list[int]:
    """``"16,16"`` -> ``[16, 16]``; ``""`` or ``"none"`` means no hidden layer. Raises ValueError."""
    stripped = text.strip()
    if stripped.lower() in ("", "none"):
        return []
    sizes = []
    for part in stripped.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"empty layer size in {text!r}; write sizes like 16,16")
        try:
            size = int(part)
        except ValueError:
            raise ValueError(f"layer size {part!r} is not a whole number (in {text!r})") from None
        if size < 1:
            raise ValueError(f"layer sizes must be at least 1, got {size} (in {text!r})")
        sizes.append(size)
    return sizes


class LayerSizes(_SizesType):
    name = "sizes"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "N,N,..."

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[int]:
        if isinstance(value, list):
            return value
        try:
            return parse_layers(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class PositiveFloat(_FloatType):
    """A finite number above zero (a learning rate): rejects 0, negatives, nan and inf."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (math.isfinite(number) and number > 0):
            self.fail(f"must be a finite number above 0, got {value}", param, ctx)
        return number


class ValidationSize(_SizeType):
    """A fraction of the training set (0 <= x < 1) or a whole count of rows (>= 1)."""

    name = "fraction|count"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float | int:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            self.fail(f"{value!r} is not a fraction (0.1) or a count (5000)", param, ctx)
        if not math.isfinite(number) or number < 0:
            self.fail(f"must be a fraction in [0, 1) or a count of rows, got {value}", param, ctx)
        if number < 1:
            return number
        if not number.is_integer():
            self.fail(f"a count of rows must be a whole number, got {value}", param, ctx)
        return int(number)


# Shared by every command that reads a dataset.
data_dir_option = click.option(
    "--data-dir",
    # exists: a folder the user named must be there, never silently replaced by $NETKIT_DATA or the cache.
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Folder holding the dataset's files (searched before $NETKIT_DATA and the cache).",
)
no_download_option = click.option(
    "--no-download", is_flag=True, help="Fail instead of downloading missing dataset files."
)
