"""``netkit evaluate``: accuracy, loss, per-class precision/recall and the confusion matrix on a test set."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from netkit.data import Dataset
from netkit.evaluation import evaluate as score
from netkit.model import Sequential
from netkit.pictures.canvas import save_png
from netkit.pictures.mistakes import find_mistakes, mistakes_picture

from . import formatting as fmt
from . import json_output
from .downloads import load_dataset
from .models import open_model
from .options import data_dir_option, no_download_option, plugin_option
from .pictures import check_picture_path, write_png
from .render import confusion_table


@click.command()
@click.argument("model", required=False, type=click.Path(dir_okay=False, path_type=Path))
@plugin_option(
    "--dataset",
    group="datasets",
    default=None,
    help="Dataset whose test set to score.  [default: the one the model was trained on, else mnist]",
)
@data_dir_option
@no_download_option
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option(
    "--mistakes",
    "mistakes_picture",
    type=click.Path(path_type=Path),
    default=None,
    metavar="PNG",
    help="Also write a gallery of misclassified test images (truth, guess, confidence).",
)
@click.option(
    "--mistakes-shown",
    type=click.IntRange(min=1, max=1000),
    default=40,
    show_default=True,
    help="How many mistakes the gallery shows, the most confident first.",
)
def evaluate(
    model: Path | None,
    dataset: str | None,
    data_dir: Path | None,
    no_download: bool,
    as_json: bool,
    mistakes_picture: Path | None,
    mistakes_shown: int,
) -> None:
    """Score MODEL on a test set (default: the pre-trained model shipped with netkit).

    \b
    Examples:
      netkit evaluate                      # the shipped 784-16-16-10 MNIST model
      netkit evaluate model.h5 --json
      netkit evaluate fashion.h5 --dataset fashion-mnist
      netkit evaluate model.h5 --mistakes mistakes.png
    """
    if mistakes_picture is not None:
        check_picture_path(mistakes_picture, "--mistakes")
    path, model_file = open_model(model)
    dataset_spec = dataset or str(model_file.training.get("dataset", "mnist"))
    data = load_dataset(dataset_spec, data_dir, not no_download)
    scores = score(model_file.model, data.test_images, data.test_labels)
    if as_json:
        if mistakes_picture is not None:
            _write_mistakes(mistakes_picture, path, model_file.model, data, mistakes_shown, quiet=True)
        result = {
            "model": str(path),
            "dataset": dataset_spec,
            "architecture": repr(model_file.model),
            **scores.to_dict(),
        }
        click.echo(json_output.dumps(result))
        return
    console = Console(highlight=False)
    console.print(f"[bold]{path}[/] · {model_file.model} · {dataset_spec} test set, {scores.n:,} images")
    console.print(
        f"accuracy [bold green]{fmt.percent(scores.accuracy)}[/]  "
        f"({int(scores.confusion.trace()):,} of {scores.n:,} right)   loss {fmt.loss(scores.loss)}"
    )
    names = list(data.class_names)
    console.print(
        "\n[bold]confusion matrix[/] [bright_black]rows: true class, columns: predicted; recall and precision in %[/]"
    )
    console.print(confusion_table(scores.confusion, list(scores.precision), list(scores.recall), names))
    if mistakes_picture is not None:
        _write_mistakes(mistakes_picture, path, model_file.model, data, mistakes_shown, quiet=False)


def _write_mistakes(out: Path, path: Path, model: Sequential, data: Dataset, shown: int, quiet: bool) -> None:
    probabilities = model.predict_proba(data.test_images)
    mistakes = find_mistakes(probabilities, data.test_labels, shown)
    title = f"Mistakes of {path.name} on the {data.name} test set · {model}"
    picture = mistakes_picture(
        data.test_images, data.test_labels, mistakes, list(data.class_names), title, data.image_shape
    ).convert("L")  # grey only: one byte a pixel
    if quiet:  # --json keeps stdout for the JSON document
        save_png(picture, out)
    else:
        write_png(out, picture)
