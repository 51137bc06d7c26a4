"""``netkit plugins [NAME]``: every registered plugin, where it came from and whether it loaded; or one in full."""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import attrs
import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from netkit.model.fast import textbook_class
from netkit.plugin_options import COMPUTED, plugin_options, shown_default
from netkit.registry import GROUPS, PluginInfo, default_registry, format_spec

# The command-line option that takes a plugin of each group.
OPTION_OF_GROUP = {
    "layers": "--layer",
    "activations": "--activation",
    "losses": "--loss",
    "optimizers": "--optimizer",
    "datasets": "--dataset",
    "augmentations": "--augment",
    "schedules": "--schedule",
}


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the list (or the one plugin) as JSON.")
def plugins(name: str | None, as_json: bool) -> None:
    """List installed plugins by group: layers, activations, losses, optimizers, datasets, augmentations and
    schedules.

    With NAME (for example `netkit plugins leaky-relu`), show that plugin in full: its options and their
    defaults, how to write it on the command line, and its documentation.

    Third-party packages add plugins through entry points (group netkit.activations and so on); a plugin
    that fails to load is listed with its error instead of breaking the command line.
    """
    infos = default_registry().describe()
    if name is not None:
        _show_one(name, infos, as_json)
        return
    if as_json:
        records = [{**attrs.asdict(info), "loaded": info.loaded} for info in infos]
        click.echo(json.dumps(records, indent=2))
        return
    console = Console(highlight=False)
    table = Table(header_style="bold cyan", border_style="bright_black")
    for header, field in (
        ("group", "group"),
        ("name", "name"),
        ("distribution", "distribution"),
        ("version", "version"),
    ):
        # Wide enough for every value: only the description gives way on a narrow terminal, wrapping at spaces.
        width = max([len(header), *(len(getattr(info, field)) for info in infos)])
        table.add_column(header, no_wrap=True, min_width=width)
    table.add_column("description", ratio=1, min_width=12, overflow="fold")
    registry = default_registry()
    previous = None
    for info in infos:
        if previous is not None and info.group != previous:
            table.add_section()
        if info.loaded:
            description = Text(first_sentence(registry.get(info.group, info.name).__doc__))
        else:
            description = Text(f"✗ failed to load: {info.error}", style="bold red")
        group = info.group if info.group != previous else ""
        table.add_row(group, info.name, info.distribution, info.version, description)
        previous = info.group
    console.print(table)
    broken = sum(not info.loaded for info in infos)
    if broken:
        click.echo(f"{broken} plugin(s) failed to load; the rest work normally.", err=True)


def _show_one(name: str, infos: list[PluginInfo], as_json: bool) -> None:
    matches = [info for info in infos if info.name == name]
    if not matches:
        known = sorted({info.name for info in infos})
        close = ", ".join(repr(guess) for guess in _close(name, known))
        hint = f" (did you mean {close}?)" if close else ""
        raise click.UsageError(f"no plugin named {name!r}{hint}; `netkit plugins` lists them all")
    records = [_record(info) for info in matches]
    if as_json:
        click.echo(json.dumps(records if len(records) > 1 else records[0], indent=2))
        return
    console = Console(highlight=False)
    for index, record in enumerate(records):
        if index:
            console.print()
        _print_record(console, record)


def _close(name: str, known: list[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(name, known, n=3)


def _record(info: PluginInfo) -> dict[str, Any]:
    record: dict[str, Any] = {**attrs.asdict(info), "loaded": info.loaded, "options": None, "doc": ""}
    if not info.loaded:
        return record
    cls = default_registry().get(info.group, info.name)
    options = plugin_options(cls)
    if options is not None:
        record["options"] = {
            key: None if default is COMPUTED or default is inspect.Parameter.empty else default
            for key, default in options.items()
        }
        record["required"] = [key for key, default in options.items() if default is inspect.Parameter.empty]
        record["shown_defaults"] = {key: shown_default(default) for key, default in options.items()}
    record["doc"] = _documentation(cls)
    record["example"] = f"{OPTION_OF_GROUP[info.group]} {_example_spec(info.name, options)}"
    return record


def _example_spec(name: str, options: dict[str, Any] | None) -> str:
    """The plugin as typed on the command line: its required options (as KEY=KEY), else its first option at
    its default, so that the reader sees where options go."""
    options = options or {}
    shown = {key: key.upper() for key, default in options.items() if default is inspect.Parameter.empty}
    if not shown:
        concrete = [(key, default) for key, default in options.items() if default not in (COMPUTED, None)]
        shown = dict(concrete[:1])
    return format_spec(name, shown)


def _documentation(cls: type) -> str:
    """The plugin's docs as written once on its textbook class, paragraphs joined into lines for the terminal."""
    doc = inspect.getdoc(textbook_class(cls)) or inspect.getdoc(cls) or ""
    paragraphs = re.split(r"\n\s*\n", doc)
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs).replace("``", "")


def _print_record(console: Console, record: dict[str, Any]) -> None:
    title = Text(record["name"], style="bold")
    title.append(f" · {record['group']} · {record['distribution']} {record['version']} · {record['target']}")
    console.print(title)
    if not record["loaded"]:
        console.print(Text(f"✗ failed to load: {record['error']}", style="bold red"))
        return
    console.print(f"on the command line: {record['example']}")
    if record["options"] is None:
        console.print("options: whatever its from_config accepts (its constructor takes **kwargs)")
    elif not record["options"]:
        console.print("options: none")
    else:
        table = Table(header_style="bold cyan", border_style="bright_black", box=None, padding=(0, 2, 0, 0))
        table.add_column("option", no_wrap=True)
        table.add_column("default", overflow="fold")
        for key, default in record["shown_defaults"].items():
            table.add_row(key, default)
        console.print(table)
    console.print()
    console.print(Text(record["doc"]))


def first_sentence(doc: str | None) -> str:
    """The docstring's first sentence, without reST markup: what the plugin is, in a line."""
    text = " ".join((doc or "").split()).replace("``", "")
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s|$)", text)
    return text if end is None else text[: end.start() + 1]


assert set(OPTION_OF_GROUP) == set(GROUPS), "every plugin group needs its command-line option"
