"""``netkit trace``: one learning step on one image, every layer's numbers, rendered from ``model.trace``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from netkit.data.images import load_image
from netkit.errors import ConfigError
from netkit.model.trace import LayerTrace, Trace
from netkit.model.trace_unit import check_labels, resolve_unit

from . import json_output
from .models import MODEL_HELP, check_takes_images, model_option, open_model, split_model_and_images

# Values shown per array unless --full.
SHOWN_VALUES = 4
# Terms of the unit's sum written out with their numbers (the rest are added up): two fit 80 columns.
UNIT_TERMS = 2


@click.command()
@click.argument("arguments", nargs=-1, metavar="[MODEL] IMAGE")
@model_option(f"{MODEL_HELP} The explicit form of MODEL.")
@click.option("--label", type=int, required=True, metavar="D", help="The image's true class (the digit it shows).")
@click.option("--unit", default=None, metavar="LAYER:UNIT", help="Write out one unit's sum, e.g. 2:5 or dense_2:5.")
@click.option("--lr", type=float, default=None, metavar="R", help="Update with plain gradient descent at rate R.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole trace as JSON.")
@click.option("--full", is_flag=True, help="Show whole arrays instead of a few numbers each.")
@click.option(
    "--preprocess/--no-preprocess", default=True, show_default=True, help="MNIST-style placement, as in predict."
)
def trace(
    arguments: tuple[str, ...],
    model_option: str | None,
    label: int,
    unit: str | None,
    lr: float | None,
    as_json: bool,
    full: bool,
    preprocess: bool,
) -> None:
    """Follow one learning step on IMAGE with the real numbers: the forward pass, the loss, the backward
    pass (the chain rule, layer by layer) and one update, on a copy of MODEL (the file never changes).

    MODEL and IMAGE are read as in netkit predict (the shipped model without MODEL). Without --lr the
    update uses the model's own optimiser, as its next training step would.

    \b
    Examples:
      netkit trace seven.png --label 7
      netkit trace model.h5 seven.png --label 7 --unit 2:5 --lr 0.1
    """
    model_path, images = split_model_and_images(arguments, model_option)
    if len(images) != 1:
        raise click.UsageError(f"give exactly one IMAGE, not {len(images)}")
    if lr is not None and not lr > 0:
        raise click.BadParameter(f"the learning rate must be positive, not {lr}", param_hint="--lr")
    path, model_file = open_model(model_path)
    model = model_file.model
    check_takes_images(path, model)
    try:
        check_labels(model, label, 1)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--label") from None
    try:
        chosen = resolve_unit(model, unit) if unit is not None else None
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--unit") from None
    row = load_image(Path(images[0]), center=preprocess)
    traced = model.trace(row, label, chosen, lr)
    if as_json:
        click.echo(json_output.dumps({"image": images[0], "model": str(path), **traced.to_dict()}))
        return
    console = Console(highlight=False)
    console.print(Text(f"{path} · {model} · {images[0]}, label {label}", style="bright_black"))
    for layer in traced.layers:
        console.print(_layer_panel(layer, full))
    console.print(_step_panel(traced))
    if traced.unit is not None:
        console.print(
            Panel(Text("\n".join(traced.unit.lines(UNIT_TERMS))), title="one unit", title_align="left", expand=False)
        )


def _layer_panel(layer: LayerTrace, full: bool) -> Panel:
    formulas = Table.grid(padding=(0, 1))
    for result, formula, shapes in layer.products():
        formulas.add_row(Text(result, style="bold"), Text(f"= {formula}"), Text(shapes, style="bright_black"))
    arrays: list[tuple[str, Any]] = [("x", layer.x), ("z", layer.z), ("a", layer.a), ("dL/da", layer.dl_da)]
    symbols = {layer.weight: "W", layer.bias: "b"}
    arrays += [("dL/dz", layer.dl_dz), *((f"dL/d{symbols.get(name, name)}", g) for name, g in layer.gradients.items())]
    arrays += [("dL/dx", layer.dl_dx)]
    values = Table.grid(padding=(0, 1))
    values.add_column(no_wrap=True)
    values.add_column(no_wrap=True, style="bright_black")
    values.add_column(overflow="fold" if full else "ellipsis", no_wrap=not full)
    for name, array in arrays:
        if array is not None:
            values.add_row(Text(name, style="bold"), _shape(array.shape), _values(array, full))
    title = f"{layer.name} · {layer.description} · {_shape(layer.input_shape)} → {_shape(layer.output_shape)}"
    return Panel(Group(formulas, values), title=Text(title, style="bold"), title_align="left", border_style="cyan")


def _step_panel(traced: Trace) -> Panel:
    table = Table(box=None, padding=(0, 1), show_header=True, header_style="bold")
    table.add_column("")
    for digit in range(traced.probabilities_before.shape[1]):
        table.add_column(str(digit), justify="right")
    for name, row in (("before", traced.probabilities_before[0]), ("after", traced.probabilities_after[0])):
        table.add_row(name, *(f"{p:.2f}" for p in row))
    lines = Text()
    lines.append(f"loss ({traced.loss}) {traced.loss_before:.5g} → {traced.loss_after:.5g}\n", style="bold")
    lines.append(f"prediction {int(traced.prediction_before[0])} → {int(traced.prediction_after[0])}\n")
    lines.append(f"update: {traced.optimizer}, learning rate {traced.learning_rate:g}")
    return Panel(Group(lines, table), title="the step", title_align="left", border_style="green")


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _values(array: np.ndarray[Any, Any], full: bool) -> str:
    """A few values (all with ``full``), after the range of the whole array."""
    flat = np.asarray(array, dtype=np.float64).ravel() + 0.0  # + 0.0: no minus zero
    shown = flat if full else flat[:SHOWN_VALUES]
    text = " ".join(f"{value:.3g}" for value in shown)
    if full or flat.size <= SHOWN_VALUES:
        return text
    return f"[{flat.min():.3g}, {flat.max():.3g}] {text} …"
