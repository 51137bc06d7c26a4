"""``netkit predict``: classify image files and show what the network saw and how sure it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from netkit.data.images import SIDE, has_ink, load_image

from . import json_output
from .models import (
    MODEL_HELP,
    check_takes_images,
    is_model_path,
    model_option,
    open_model,
    shipped_model_note,
    split_model_and_images,
)
from .render import digit_image, probability_table, uses_colour


@click.command()
@click.argument("arguments", nargs=-1, metavar="[MODEL] IMAGE...")
@model_option(f"{MODEL_HELP} The explicit form of MODEL.  [default: the shipped 784-16-16-10 model]")
@click.option(
    "--preprocess/--no-preprocess",
    default=True,
    show_default=True,
    help="MNIST-style placement: crop to the ink, fit in 20x20 and centre by mass in 28x28. "
    "--no-preprocess only resizes the whole image to 28x28, for images that are MNIST-like already. "
    "Either way the image becomes grayscale ink (alpha as ink, dark-on-light inverted).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list: image, digit, probabilities.")
def predict(arguments: tuple[str, ...], model_option: str | None, preprocess: bool, as_json: bool) -> None:
    """Classify each IMAGE (PNG, JPEG, ...; any size or mode) with MODEL.

    MODEL is told apart from the images by its extension (.h5, .hdf5, .pkl, .pickle); --model also takes
    the name of a model shipped with netkit (cnn: a small convolutional network). Without either, the
    pre-trained 784-16-16-10 MNIST model shipped with netkit is used.

    \b
    Examples:
      netkit predict seven.png
      netkit predict --model cnn seven.png
      netkit predict model.h5 digits/*.png --json
    """
    model_path, images = split_model_and_images(arguments, model_option)
    if not images:
        raise click.UsageError("no IMAGE given; pass one or more image files")
    if model_option is None and not as_json and not any(is_model_path(argument) for argument in arguments):
        click.echo(shipped_model_note("predict model.h5 IMAGE..."), err=True)
    path, model_file = open_model(model_path)
    model = model_file.model
    check_takes_images(path, model)
    rows = np.stack([load_image(Path(image), center=preprocess) for image in images])
    for image, row in zip(images, rows, strict=True):
        if not has_ink(row):  # every model answers something for a blank page; say that it means nothing
            click.echo(f"netkit: warning: {image}: no ink found (a blank image); its answer means nothing", err=True)
    probabilities = model.predict_proba(rows)
    if as_json:
        results = [
            {"image": image, "digit": int(np.argmax(row)), "probabilities": [float(p) for p in row]}
            for image, row in zip(images, probabilities, strict=True)
        ]
        click.echo(json_output.dumps(results))
        return
    console = Console(highlight=False)
    console.print(Text(f"{path} · {model}", style="bright_black"))
    colour = uses_colour(console)
    for image, row, probs in zip(images, rows, probabilities, strict=True):
        console.print(_prediction(image, row, probs, colour))


def _prediction(image: str, row: np.ndarray[Any, Any], probabilities: np.ndarray[Any, Any], colour: bool) -> Panel:
    names = [str(index) for index in range(probabilities.shape[0])]
    digit = int(np.argmax(probabilities))
    layout = Table.grid(padding=(0, 3))
    layout.add_column()
    layout.add_column(vertical="middle")
    picture = digit_image(row.reshape(SIDE, SIDE), colour)
    layout.add_row(picture, probability_table([float(p) for p in probabilities], names))
    verdict = Text()
    verdict.append("likely digit ", style="bold")
    verdict.append(names[digit], style="bold green")
    verdict.append(f"  ({float(probabilities[digit]):.1%})")
    caption = Text("left: the 28x28 input the network saw", style="bright_black")
    outer = Table.grid()
    outer.add_row(layout)
    outer.add_row(caption)
    return Panel(
        outer,
        title=Text(image, style="bold"),
        subtitle=verdict,
        title_align="left",
        subtitle_align="right",
        expand=False,
        border_style="cyan",
    )
