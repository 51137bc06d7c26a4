"""The options a plugin takes, read from its class: what ``netkit plugins NAME`` shows and what a bad option's
error lists.

A plugin's options are its constructor's keyword arguments (an attrs class's fields, under the names its
``__init__`` takes); a class may also accept short names for some, declared as ``option_aliases``
(``{"lr": "learning_rate"}``) and turned into the long ones by its ``from_config``. A constructor with
``**kwargs`` takes options its signature cannot tell: then nothing is listed and nothing is refused here
(the plugin's own ``from_config`` decides).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable
from typing import Any

import attrs

# A default that depends on other options (dense's init follows its activation) or is built per instance.
COMPUTED = object()


def plugin_options(cls: type) -> dict[str, Any] | None:
    """``{option: default}`` in the constructor's order (a required option's default is ``inspect.Parameter.empty``,
    a computed one :data:`COMPUTED`), or ``None`` when the constructor takes ``**kwargs``."""
    try:
        parameters = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):  # a class whose signature Python cannot read
        return None
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return None
    options: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.POSITIONAL_ONLY):
            continue
        default = parameter.default
        if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = COMPUTED
        options[parameter.name] = default
    return options


def accepted_options(cls: type) -> set[str] | None:
    """Every option name ``from_config`` takes (aliases included), or ``None`` when the class cannot say."""
    options = plugin_options(cls)
    if options is None:
        return None
    aliases: dict[str, str] = getattr(cls, "option_aliases", {})
    return set(options) | set(aliases)


def unknown_option_message(kind: str, name: str, unknown: Iterable[str], valid: Iterable[str]) -> str:
    """One line: the unknown option(s), the closest valid name, and every valid one."""
    unknown, valid = sorted(unknown), list(valid)
    words = "option" if len(unknown) == 1 else "options"
    message = f"unknown {words} {', '.join(repr(key) for key in unknown)} for {kind} {name!r}"
    guesses = difflib.get_close_matches(unknown[0], valid, n=1)
    if guesses:
        message += f" (did you mean {guesses[0]!r}?)"
    if not valid:
        return message + f"; {kind} {name!r} takes no options"
    return message + f"; valid options: {', '.join(valid)}"


def shown_default(default: Any) -> str:
    """A default as ``netkit plugins NAME`` prints it."""
    if default is inspect.Parameter.empty:
        return "required"
    if default is COMPUTED:
        return "(depends on the other options)"
    return repr(default) if isinstance(default, str) else str(default)
