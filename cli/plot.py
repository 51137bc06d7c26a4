"""``netkit plot``: a model's training curves as a PNG or SVG file."""

from __future__ import annotations

from pathlib import Path

import click

from netkit.errors import ModelFileError
from netkit.pictures.plot import loss_plot

from . import formatting as fmt
from .models import open_model
from .pictures import check_picture_path, write_picture


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    default=Path("loss.png"),
    show_default=True,
    help="Picture to write: .png or .svg.",
)
def plot(model: Path, out: Path) -> None:
    """Draw MODEL's training curves: loss per epoch (train, validation) over the loss per iteration.

    Log scale, the epoch with the lowest validation loss marked.

    \b
    Examples:
      netkit plot model.h5                 # writes loss.png
      netkit plot model.h5 -o curves.svg
    """
    check_picture_path(out, "--out", (".png", ".svg"))
    path, model_file = open_model(model)
    history = model_file.history
    if not history.epochs:
        raise ModelFileError(f"{path} has no training history to plot")
    epochs = fmt.plural(len(history.epochs), "epoch")
    figure = loss_plot(history, f"Training curves of {path.name}", f"{model_file.model} · {epochs}")
    write_picture(out, figure.save)
