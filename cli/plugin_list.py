"""``netkit plugins``: every registered plugin, where it came from, and whether it loaded."""

from __future__ import annotations

import json
import re

import attrs
import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from netkit.registry import default_registry


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def plugins(as_json: bool) -> None:
    """List installed plugins by group: layers, activations, losses, optimizers, datasets.

    Third-party packages add plugins through entry points (group netkit.activations and so on); a plugin
    that fails to load is listed with its error instead of breaking the command line.
    """
    infos = default_registry().describe()
    if as_json:
        records = [{**attrs.asdict(info), "loaded": info.loaded} for info in infos]
        click.echo(json.dumps(records, indent=2))
        return
    console = Console(highlight=False)
    table = Table(header_style="bold cyan", border_style="bright_black")
    widths: list[int] = []
    for header, field in (
        ("group", "group"),
        ("name", "name"),
        ("distribution", "distribution"),
        ("version", "version"),
    ):
        # Wide enough for every value: only the description gives way on a narrow terminal.
        width = max([len(header), *(len(getattr(info, field)) for info in infos)])
        table.add_column(header, no_wrap=True, min_width=width)
        widths.append(width)
    # Each column costs its width plus padding and a border: 3 cells.
    room = max(console.width - sum(widths) - 3 * (len(widths) + 1) - 1, 12)
    table.add_column("description", no_wrap=True, overflow="ellipsis", max_width=room)
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


def first_sentence(doc: str | None) -> str:
    """The docstring's first sentence, without reST markup: what the plugin is, in a line."""
    text = " ".join((doc or "").split()).replace("``", "")
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s|$)", text)
    return text if end is None else text[: end.start() + 1]
