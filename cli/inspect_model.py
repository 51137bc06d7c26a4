"""``netkit inspect``: what a model file holds — layers, parameters, history — one neuron's weights, and a
conv net's feature maps for an image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from netkit.data.images import load_image
from netkit.errors import ConfigError
from netkit.io import ModelFile, model_format
from netkit.model.layer import shape_text
from netkit.model.network import Network
from netkit.pictures import feature_maps_picture, weights_picture
from netkit.registry import default_registry
from netkit.training.trainer import History

from . import formatting as fmt
from .loss_charts import epoch_chart, iteration_chart
from .models import check_takes_images, open_model
from .pictures import check_picture_path, picture_option, write_png
from .render import heat_legend, heat_map, uses_colour

IMAGE_SIDE = 28
CHART_HEIGHT = 6


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--neuron",
    type=int,
    default=None,
    metavar="N",
    help="Draw the 784 input weights of first-layer neuron N as a 28x28 heat map.",
)
@picture_option(
    "--weights",
    "weights_picture",
    "Write every first-layer unit's input weights as a grid of image tiles (and later layers as matrices).",
)
@picture_option(
    "--maps",
    "maps_picture",
    "Write the feature maps every convolution and pooling layer makes of --image, a row of tiles per layer.",
)
@click.option(
    "--image",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The picture of a digit whose feature maps --maps draws (prepared as for netkit predict).",
)
def inspect(
    model: Path, neuron: int | None, weights_picture: Path | None, maps_picture: Path | None, image: Path | None
) -> None:
    """Show MODEL's layers, parameter counts, file format and training history.

    \b
    Examples:
      netkit inspect model.h5
      netkit inspect model.h5 --neuron 3      # what hidden neuron 3 looks for
      netkit inspect model.h5 --weights weights.png
      netkit inspect lenet.h5 --maps maps.png --image seven.png
    """
    chosen = [
        flag
        for flag, value in (("--neuron", neuron), ("--weights", weights_picture), ("--maps", maps_picture))
        if value is not None
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)}: choose one")
    if (maps_picture is None) != (image is None):
        raise click.UsageError("--maps and --image go together: --maps maps.png --image digit.png")
    if weights_picture is not None:
        check_picture_path(weights_picture, "--weights")
    if maps_picture is not None:
        check_picture_path(maps_picture, "--maps")
    path, model_file = open_model(model)
    if weights_picture is not None:
        _write_weights(path, model_file, weights_picture)
        return
    if maps_picture is not None and image is not None:
        _write_maps(path, model_file, image, maps_picture)
        return
    console = Console(highlight=False)
    if neuron is not None:
        weights = neuron_weights(model_file.model, neuron)  # fail before printing anything
        console.print(_overview(path, model_file))
        console.print(_neuron_view(weights, neuron, uses_colour(console)))
        return
    console.print(_overview(path, model_file))
    console.print(_layer_table(model_file.model))
    console.print(_training(model_file, console.width))


def _write_weights(path: Path, model_file: ModelFile, out: Path) -> None:
    model = model_file.model
    write_png(out, weights_picture(model, f"Weights of {path.name} · {model}"), palette=True)


def _write_maps(path: Path, model_file: ModelFile, image: Path, out: Path) -> None:
    model = model_file.model
    check_takes_images(path, model)
    title = f"Feature maps of {path.name} for {image.name} · {model}"
    write_png(out, feature_maps_picture(model, load_image(image), title))


def neuron_weights(model: Network, neuron: int) -> np.ndarray[Any, Any]:
    """The first layer's weights into ``neuron``, as a 28x28 grid, or a clear error.

    The first layer with parameters counts: a model built on images starts with a flatten, which has none."""
    index = next((i for i, layer in enumerate(model.layers) if layer.parameter_shapes()), 0)
    first = model.layers[index]
    weight = model.parameter_views[index].get("weight")
    if weight is None or weight.ndim != 2:
        raise ConfigError(f"--neuron needs a first layer with a weight matrix; {first.describe()} has none")
    inputs, units = weight.shape
    if inputs != IMAGE_SIDE * IMAGE_SIDE:
        raise ConfigError(f"--neuron draws 28x28 inputs, but this model's input layer takes {inputs} values")
    if not 0 <= neuron < units:
        raise ConfigError(f"neuron {neuron} does not exist; the first layer has neurons 0 to {units - 1}")
    return np.asarray(weight[:, neuron]).reshape(IMAGE_SIDE, IMAGE_SIDE)


def _overview(path: Path, model_file: ModelFile) -> Text:
    model = model_file.model
    text = Text()
    text.append(str(path), style="bold")
    text.append(
        f" · {model_format(path)} file, {model_file.format_name} v{model_file.format_version}, "
        f"written by netkit {model_file.netkit_version}\n"
    )
    text.append(repr(model), style="bold cyan")
    loss = default_registry().name_of("losses", model.loss)
    text.append(f" · loss {loss} · {model.parameter_count:,} parameters")
    return text


def _layer_table(model: Network) -> Table:
    table = Table(header_style="bold cyan", border_style="bright_black")
    table.add_column("#", justify="right")
    table.add_column("layer")
    table.add_column("shape")
    table.add_column("parameters", no_wrap=True)
    table.add_column("count", justify="right")
    for index, (layer, views) in enumerate(zip(model.layers, model.parameter_views, strict=True)):
        table.add_row(
            str(index + 1),
            layer.describe(),
            f"{shape_text(model.shapes[index])} → {shape_text(model.shapes[index + 1])}",
            " · ".join(f"{name} {'x'.join(map(str, array.shape))}" for name, array in views.items()),
            f"{sum(array.size for array in views.values()):,}",
        )
    table.add_section()
    table.add_row("", "total", "", "", f"{model.parameter_count:,}", style="bold")
    return table


def _training(model_file: ModelFile, width: int) -> Table | Group:
    history, training = model_file.history, model_file.training
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    if training:
        grid.add_row(
            "dataset",
            f"{training.get('dataset', '?')} (seed {training.get('seed', '?')}, "
            f"validation {training.get('validation', '?')})",
        )
    optimizer = training.get("optimizer") or (
        default_registry().spec_of("optimizers", model_file.optimizer) if model_file.optimizer is not None else {}
    )
    if optimizer:
        grid.add_row("optimizer", fmt.spec_text(optimizer))
    if not history.epochs:
        grid.add_row("history", Text("none: this model was never trained by netkit", style="bright_black"))
        return grid
    best = fmt.best_epoch(history.epochs)
    summary = f"{len(history.epochs)} epochs, {len(history.iteration_loss):,} iterations"
    if best is not None:
        summary += f"; best val acc {fmt.percent(best.val_accuracy)} at epoch {best.epoch}"
    grid.add_row("history", summary)
    held = training.get("held_epoch")
    if held is not None:
        rule = "the lowest validation loss" if training.get("keep") == "best" else "the last"
        grid.add_row(
            "weights", f"holds epoch {held} of {len(history.epochs)} ({rule}, --keep {training.get('keep', 'last')})"
        )
    extras = [
        f"{label} {value}"
        for label, value in (
            ("augment", ", ".join(fmt.spec_text(spec) for spec in training.get("augment") or []) or None),
            ("schedule", fmt.spec_text(training["schedule"]) if training.get("schedule") else None),
            ("dropout", training.get("dropout") or None),
            ("input dropout", training.get("input_dropout") or None),
        )
        if value
    ]
    if extras:
        grid.add_row("recipe", " · ".join(extras))
    last = history.epochs[-1]
    grid.add_row(
        "last epoch",
        f"train loss {fmt.loss(last.train_loss)} · val loss {fmt.loss(last.val_loss)} · "
        f"val acc {fmt.percent(last.val_accuracy)}",
    )
    chart_width = min(width, 100)
    charts: list[Text] = [epoch_chart(history.epochs, chart_width, CHART_HEIGHT)]
    if history.iteration_loss:  # a slim file keeps only the epochs
        losses = np.asarray(history.iteration_loss)
        charts.append(iteration_chart(losses, chart_width, CHART_HEIGHT, _steps_per_epoch(history)))
    return Group(grid, *charts)


def _steps_per_epoch(history: History) -> int:
    return max(len(history.iteration_loss) // max(len(history.epochs), 1), 1)


def _neuron_view(weights: np.ndarray[Any, Any], neuron: int, colour: bool) -> Group:
    picture, limit = heat_map(weights, colour, scale=2 if colour else 1)
    title = Text(f"first-layer neuron {neuron}: its 784 input weights as a 28x28 image", style="bold")
    note = Text(f"range [{weights.min():+.3g}, {weights.max():+.3g}]", style="bright_black")
    return Group(title, picture, heat_legend(limit, colour), note)
