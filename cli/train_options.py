"""The options of ``netkit train``: what it accepts, with help texts and defaults (``cli/train.py`` runs it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from netkit.training.defaults import (
    DEFAULT_VALIDATION,
    PLAIN_OPTIMIZER,
    RECIPE_LEARNING_RATE,
    RECIPE_OPTIMIZER,
    RECIPE_SCHEDULE,
    SATURATING_LEARNING_RATE,
    SATURATING_OPTIMIZER,
)

from .options import (
    DynamicHelpOption,
    LayerSizes,
    PositiveFloat,
    ValidationSize,
    data_dir_option,
    installed,
    no_download_option,
    optimizer_defaults,
    plugin_option,
)

Command = TypeVar("Command", bound=Callable[..., Any])

EPILOG = """\b
Plugin options use the spec syntax NAME:KEY=VALUE,...  for example
  --activation leaky-relu:slope=0.1
  --optimizer adam:beta1=0.9,beta2=0.99 --lr 0.001
  --optimizer momentum:beta=0.8 --batch-size 64
  --dataset idx:path=~/digits

\b
Examples:
  netkit train --layers 16,16 --epochs 10             # the classic 784-16-16-10 net
  netkit train --layers 100 --activation relu --optimizer adam --out relu.h5
  netkit train --layer conv2d:filters=8,kernel=5 --layer maxpool2d:size=2 --layer dense:units=64 --out cnn.h5
  netkit train --out model.h5 --resume --epochs 5     # five more epochs, same data split

Seeds: weights from [seed, 0], the validation split from [seed, 1], batch order from [seed, 2].
"""


# In the order --help lists them.
TRAIN_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--layers",
        type=LayerSizes(),
        default="16,16",
        show_default=True,
        help="Hidden layer sizes, comma-separated ('none' for no hidden layer): a stack of dense layers. "
        "The output layer has one unit per class of the dataset.",
    ),
    plugin_option(
        "--layer",
        "layer_specs",
        group="layers",
        multiple=True,
        help="A hidden layer as a plugin spec, e.g. conv2d:filters=6,kernel=5 (repeat it, in order; it replaces "
        "--layers). A flatten goes in where a dense layer follows an image; the output layer is added as usual.",
    ),
    plugin_option(
        "--activation",
        group="activations",
        default="sigmoid",
        show_default=True,
        help="Activation of the hidden layers.",
    ),
    plugin_option(
        "--output-activation",
        group="activations",
        default="softmax",
        show_default=True,
        help="Activation of the output layer.",
    ),
    plugin_option("--loss", group="losses", default="cross-entropy", show_default=True, help="Loss function."),
    plugin_option(
        "--optimizer",
        group="optimizers",
        default=None,
        help=f"How batches are drawn and weights move [default: the default recipe's (see --lr); "
        f"{PLAIN_OPTIMIZER} when --lr or --schedule is given].",
    ),
    click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        default=None,
        cls=DynamicHelpOption,
        more=optimizer_defaults("batch_size"),
        help="Samples per step, for optimizers that have a batch size (an error with the others).",
    ),
    click.option(
        "--lr",
        "learning_rate",
        type=PositiveFloat(),
        default=None,
        cls=DynamicHelpOption,
        more=optimizer_defaults("learning_rate"),
        help=f"Learning rate. With none of --optimizer, --lr and --schedule given, the default recipe: "
        f"{RECIPE_OPTIMIZER} at {RECIPE_LEARNING_RATE} (with sigmoid or tanh hidden units: "
        f"{SATURATING_OPTIMIZER} at {SATURATING_LEARNING_RATE}), batches of 32 and the {RECIPE_SCHEDULE} "
        "schedule; otherwise",
    ),
    click.option(
        "--epochs",
        type=click.IntRange(min=1),
        default=10,
        show_default=True,
        help="Epochs to train (more epochs, with --resume).",
    ),
    click.option(
        "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of every random choice."
    ),
    plugin_option(
        "--dataset",
        group="datasets",
        default="mnist",
        show_default=True,
        help="Dataset to train on.",
    ),
    data_dir_option,
    click.option(
        "--validation",
        type=ValidationSize(),
        default=str(DEFAULT_VALIDATION),
        show_default=True,
        help="Validation rows carved from the training set: a fraction below 1, a count, or 0 for none.",
    ),
    no_download_option,
    click.option(
        "--augment",
        metavar="NAME[:KEY=VALUE,...],...",
        default=None,
        cls=DynamicHelpOption,
        more=installed("augmentations"),
        help="Random transforms of the training images, e.g. shift:pixels=2,rotate:degrees=10,scale "
        "(never of validation or test images).",
    ),
    plugin_option(
        "--schedule",
        group="schedules",
        default=None,
        help="Learning-rate schedule, epoch by epoch, e.g. cosine or step:every=5,factor=0.5 "
        f"[default: {RECIPE_SCHEDULE} when --optimizer and --lr are left out too (see --lr), else constant].",
    ),
    click.option(
        "--dropout",
        type=click.FloatRange(min=0, max=1, max_open=True),
        default=0.0,
        show_default=True,
        help="Dropout rate after each hidden layer (0: none).",
    ),
    click.option(
        "--input-dropout",
        type=click.FloatRange(min=0, max=1, max_open=True),
        default=0.0,
        show_default=True,
        help="Dropout rate of the input pixels (0: none).",
    ),
    click.option(
        "--keep",
        type=click.Choice(["best", "last"]),
        default=None,
        help="What --out holds: the epoch with the lowest validation loss, or the last "
        "[default: best with a validation set, else last].",
    ),
    click.option(
        "--patience",
        type=click.IntRange(min=1),
        default=None,
        help="Stop after this many epochs without a lower validation loss, keeping the best epoch.",
    ),
    click.option(
        "--min-delta",
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        help="How much lower a validation loss must be to count as better (for --keep best and --patience).",
    ),
    click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("model.h5"),
        show_default=True,
        help="Model file, saved after every epoch.",
    ),
    click.option(
        "--format",
        "file_format",
        type=click.Choice(["hdf5", "pickle"]),
        default=None,
        help="File format, overriding the extension of --out.",
    ),
    click.option(
        "--textbook",
        is_flag=True,
        help="Train with the textbook forms of the plugins (netkit.plugins.textbook): the same maths, readable "
        "in a debugger, slower.",
    ),
    click.option("--resume", is_flag=True, help="Continue training the model in --out where it stopped."),
    click.option("--reset", "--force", "reset", is_flag=True, help="Overwrite --out if it exists."),
    click.option("--json", "as_json", is_flag=True, help="Print only the final result, as JSON."),
    click.option("--quiet", "-q", is_flag=True, help="Print only the result line."),
    click.option(
        "--web",
        is_flag=True,
        help="Also serve a live page on 127.0.0.1 (loss charts, weight grid); after training it draws with the model.",
    ),
    click.option(
        "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port of the --web page."
    ),
]


def train_options(command: Command) -> Command:
    """Give ``command`` every option of ``netkit train``."""
    for option in reversed(TRAIN_OPTIONS):
        command = option(command)
    return command
