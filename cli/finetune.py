"""``netkit finetune``: teach a trained model a folder of someone's own digits, keeping what it knew."""

from __future__ import annotations

from pathlib import Path

import click

from netkit.errors import ModelFileError
from netkit.io import save_model
from netkit.io.atomic import check_writable
from netkit.io.storage import save_problem
from netkit.training import finetune as core
from netkit.training.run import output_format

from . import formatting as fmt
from . import json_output
from .downloads import load_dataset
from .models import open_model
from .options import data_dir_option, no_download_option, plugin_option


def _check_out(out: Path, force: bool) -> str:
    """The format to save in, and the refusals ``netkit train`` makes, before any work is done."""
    file_format = output_format(out, None)
    if out.is_dir():
        raise ModelFileError(f"{out} is a directory; --out needs a file name such as mine.h5")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ModelFileError(f"cannot save {out}: folder {folder} does not exist")
    if out.exists() and not force:
        raise ModelFileError(f"{out} exists; use --force to overwrite it")
    try:
        check_writable(out)
    except OSError as exc:
        raise ModelFileError(f"cannot save {out}: {save_problem(exc)}") from None
    return file_format


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Where to save the fine-tuned model.")
@click.option(
    "--epochs",
    type=click.IntRange(1, core.MAX_EPOCHS),
    default=core.DEFAULT_EPOCHS,
    show_default=True,
    help="Epochs over the personal digits mixed with the dataset's rows.",
)
@click.option(
    "--mix",
    type=click.IntRange(min=0),
    default=core.DEFAULT_MIX,
    show_default=True,
    help="Training rows of the dataset mixed in, so the model does not forget it (0: the folder alone).",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=None,
    help=f"Times each personal digit is shown per epoch.  [default: {core.DEFAULT_REPEAT}, fewer when the folder "
    "would outnumber the mixed-in rows]",
)
@click.option(
    "--lr",
    "learning_rate",
    type=click.FloatRange(0, 10, min_open=True),
    default=core.DEFAULT_LEARNING_RATE,
    show_default=True,
    help="Learning rate (plain mini-batch gradient descent, batch 32).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Picks the rows and batches.")
@plugin_option(
    "--dataset",
    group="datasets",
    default=None,
    help="Dataset whose training rows are mixed in and whose test set is scored.  [default: the model's own, "
    "else mnist]",
)
@data_dir_option
@no_download_option
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def finetune(
    model: Path,
    folder: Path,
    out: Path,
    epochs: int,
    mix: int,
    repeat: int | None,
    learning_rate: float,
    seed: int,
    dataset: str | None,
    data_dir: Path | None,
    no_download: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Fine-tune MODEL on the digits in FOLDER (FOLDER/<digit>/<name>.png) and save the result to --out.

    MODEL is a model file, or the name of a shipped model: "shipped" (or "mlp") for the pre-trained 784-16-16-10
    model, "cnn" for the shipped convolutional network. Images are prepared as for netkit predict
    (crop to the ink, fit in 20x20, centre). The dataset's training rows are mixed in so the model keeps
    reading it; the result line gives the accuracy on FOLDER and on the test set before and after.

    \b
    Examples:
      netkit finetune shipped my-digits --out mine.h5
      netkit finetune model.h5 my-digits --out mine.h5 --epochs 5 --mix 20000
    """
    file_format = _check_out(out, force)
    path, model_file = open_model(model)
    images, labels = core.personal_digits(folder, model_file.model.output_size)
    options = core.FinetuneOptions(epochs, mix, repeat, learning_rate, seed)
    dataset_spec = dataset or str(model_file.training.get("dataset", "mnist"))
    data = load_dataset(dataset_spec, data_dir, not no_download)
    result = core.finetune(model_file, images, labels, data, options, source=str(path))
    save_model(result.model_file, out, format=file_format)
    if as_json:
        click.echo(json_output.dumps({**result.to_dict(), "out": str(out), "folder": str(folder)}))
        return
    before, after = result.before, result.after
    click.echo(
        f"{folder}: {fmt.percent(before.personal)} → {fmt.percent(after.personal)} of {result.personal} digits · "
        f"{data.name} test: {fmt.percent(before.test)} → {fmt.percent(after.test)} · "
        f"{fmt.plural(epochs, 'epoch')}, each digit {result.repeat}x with {result.mixed:,} {data.name} rows · "
        f"saved {out}"
    )
