"""``netkit evaluate``: accuracy, loss, per-class precision/recall and the confusion matrix on a test set."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
from rich.console import Console

from netkit.data import Dataset
from netkit.errors import NetkitError
from netkit.model.evaluation import evaluate as score
from netkit.model.network import Network
from netkit.pictures.canvas import save_png
from netkit.pictures.mistakes import find_mistakes, mistakes_picture
from netkit.registry import default_registry, parse_spec
from netkit.types import FloatArray, LabelArray

from . import formatting as fmt
from . import json_output
from .downloads import load_dataset
from .models import MODEL_HELP, model_option, one_model, open_model, shipped_model_note
from .options import data_dir_option, no_download_option, plugin_option
from .pictures import check_picture_path, picture_option, write_png
from .render import confusion_table


@click.command()
@click.argument("model", required=False, type=click.Path(dir_okay=False, path_type=Path))
@model_option(f"{MODEL_HELP} The explicit form of MODEL.")
@plugin_option(
    "--dataset",
    group="datasets",
    default=None,
    help="Dataset whose test set to score.  [default: the one the model was trained on, else mnist]",
)
@data_dir_option
@no_download_option
@click.option(
    "--all-images/--test-images",
    "all_images",
    default=None,
    help="Score every image of a dataset without a test set of its own (a folder with no train/ and test/), "
    "or only its seeded held-out part.  [default: every image, unless the model was trained on that dataset]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@picture_option(
    "--mistakes", "mistakes_picture", "Also write a gallery of misclassified images (truth, guess, confidence)."
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
    model_option: str | None,
    dataset: str | None,
    data_dir: Path | None,
    no_download: bool,
    all_images: bool | None,
    as_json: bool,
    mistakes_picture: Path | None,
    mistakes_shown: int,
) -> None:
    """Score MODEL on a test set (default: the pre-trained model shipped with netkit).

    MODEL (or --model) is a model file or the name of a shipped model (cnn: a small convolutional network).

    \b
    Examples:
      netkit evaluate                      # the shipped 784-16-16-10 MNIST model
      netkit evaluate --model cnn          # the shipped convolutional network
      netkit evaluate model.h5 --json
      netkit evaluate fashion.h5 --dataset fashion-mnist
      netkit evaluate model.h5 --mistakes mistakes.png
    """
    if mistakes_picture is not None:
        check_picture_path(mistakes_picture, "--mistakes")
    chosen = one_model(model, model_option)
    if chosen is None and not as_json:  # JSON names the file in "model"
        click.echo(shipped_model_note("evaluate model.h5"), err=True)
    path, model_file = open_model(chosen)
    trained_on = model_file.training.get("dataset")
    dataset_spec = dataset or str(trained_on or "mnist")
    mismatch = _other_dataset(path, trained_on, dataset_spec)
    if mismatch is not None:
        click.echo(f"netkit: warning: {mismatch}", err=True)
    data = load_dataset(dataset_spec, data_dir, not no_download)
    images, labels, scored = _scored_images(data, dataset_spec, model_file.training.get("dataset"), all_images)
    scores = score(model_file.model, images, labels)
    if as_json:
        if mistakes_picture is not None:
            _write_mistakes(
                mistakes_picture, path, model_file.model, data, (images, labels), mistakes_shown, quiet=True
            )
        result = {
            "model": str(path),
            "dataset": dataset_spec,
            "scored": scored,
            "architecture": repr(model_file.model),
            **scores.to_dict(),
        }
        click.echo(json_output.dumps(result))
        return
    console = Console(highlight=False)
    what = {"test": "test set", "all": "all images", "held-out": "held-out test part"}[scored]
    console.print(f"[bold]{path}[/] · {model_file.model} · {dataset_spec} {what}, {scores.n:,} images")
    if scored == "held-out":
        total = len(data.train_labels) + len(data.test_labels)
        console.print(
            f"[yellow]scored only the seeded held-out {scores.n:,} of {total:,} images: the dataset has no test set "
            "of its own and this model was trained on it; --all-images scores every one[/]"
        )
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
        _write_mistakes(mistakes_picture, path, model_file.model, data, (images, labels), mistakes_shown, quiet=False)


def _other_dataset(path: Path, trained_on: object, scored: str) -> str | None:
    """A warning when a model trained on one named dataset (mnist) is scored on another (fashion-mnist).

    Datasets that read the user's own files (their spec takes a ``path``: a folder of digits, a CSV file)
    are not judged: scoring the MNIST model on one's own digits is what they are for.
    """
    if trained_on is None:
        return None
    registry = default_registry()
    names = []
    for spec in (str(trained_on), scored):
        name = parse_spec(spec)[0]
        try:
            if "path" in registry.create("datasets", spec).get_config():
                return None
        except NetkitError:  # a plugin no longer installed: nothing to judge by
            return None
        names.append(name)
    if names[0] == names[1]:
        return None
    trained, other = names
    return (
        f"{path.name} was trained on {trained}, not {other}: it answers with {trained} classes, "
        "so this score means little"
    )


def _write_mistakes(
    out: Path,
    path: Path,
    model: Network,
    data: Dataset,
    scored: tuple[FloatArray, LabelArray],
    shown: int,
    quiet: bool,
) -> None:
    """The gallery of the mistakes among the images just scored."""
    images, labels = scored
    mistakes = find_mistakes(model.predict_proba(images), labels, shown)
    title = f"Mistakes of {path.name} on {data.name} · {model}"
    picture = mistakes_picture(images, labels, mistakes, list(data.class_names), title, data.image_shape)
    picture = picture.convert("L")  # grey only: one byte a pixel
    if quiet:  # --json keeps stdout for the JSON document
        save_png(picture, out)
    else:
        write_png(out, picture)


def _scored_images(
    data: Dataset, spec: str, trained_on: object, all_images: bool | None
) -> tuple[FloatArray, LabelArray, str]:
    """The rows to score and which they are: ``"test"``, ``"all"`` or ``"held-out"``.

    A dataset without a test set of its own (a folder of the user's digits) is scored whole, since the
    user expects every image scored, unless the model was trained on a dataset of that kind: its held-out
    part is then the only one it has not seen.
    """
    if not data.test_held_out:
        return data.test_images, data.test_labels, "test"
    if all_images is None:
        trained_name = parse_spec(str(trained_on))[0] if trained_on is not None else None
        all_images = trained_name != parse_spec(spec)[0]
    if not all_images:
        return data.test_images, data.test_labels, "held-out"
    images = np.concatenate([data.train_images, data.test_images])
    labels = np.concatenate([data.train_labels, data.test_labels])
    return images, labels, "all"
