"""``netkit train``: build (or resume) a network, train it with a live view, checkpoint every epoch."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import attrs
import click
from click.core import ParameterSource
from rich.console import Console
from rich.text import Text

from netkit.errors import ConfigError, NetkitError
from netkit.evaluation import evaluate
from netkit.io.limits import training_size_problem
from netkit.keepbest import KeepBest
from netkit.pitfalls import LearningWarning
from netkit.recipe import augmentation_specs
from netkit.run import (
    Checkpoint,
    Run,
    RunRequest,
    check_output,
    check_setup,
    contradictions,
    keeper_for,
    new_run,
    open_resumed,
    optimizer_spec,
    output_format,
    resumed_run,
)
from netkit.textbook_mode import textbook_trainer
from netkit.training import Callback

from . import formatting as fmt
from . import json_output
from .downloads import load_dataset
from .live import LiveView
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
from .train_output import PlainLines, held_note, interrupt_message, result_record, summary
from .train_web import WebWatch

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
  netkit train --out model.h5 --resume --epochs 5     # five more epochs, same data split

Seeds: weights from [seed, 0], the validation split from [seed, 1], batch order from [seed, 2].
"""


# The default recipe, for a run that names none of --optimizer, --lr and --schedule: SGD with momentum
# (batch 32) at this rate, times 0.7 after every epoch. Chosen by measurement on MNIST (the seed net, 5
# epochs, three seeds; the figures are in the README): plain mini-batch at a constant 0.5, which
# `--optimizer mini-batch` still gives, reaches about 93.8%, this about 95.0%. A cosine over the run did as
# well, but its shape depends on --epochs, so a run continued with --resume would not equal one trained in
# one go. Naming any of the three options leaves the others at their plain defaults (mini-batch, the
# optimizer's own rate, a constant rate).
DEFAULT_OPTIMIZER = "momentum"
DEFAULT_LEARNING_RATE = 0.1
DEFAULT_SCHEDULE = "exponential:decay=0.7"


@click.command(epilog=EPILOG)
@click.option(
    "--layers",
    type=LayerSizes(),
    default="16,16",
    show_default=True,
    help="Hidden layer sizes, comma-separated ('none' for no hidden layer). "
    "The output layer has one unit per class of the dataset.",
)
@plugin_option(
    "--activation",
    group="activations",
    default="sigmoid",
    show_default=True,
    help="Activation of the hidden layers.",
)
@plugin_option(
    "--output-activation",
    group="activations",
    default="softmax",
    show_default=True,
    help="Activation of the output layer.",
)
@plugin_option("--loss", group="losses", default="cross-entropy", show_default=True, help="Loss function.")
@plugin_option(
    "--optimizer",
    group="optimizers",
    default="mini-batch",
    show_default=True,
    help="How batches are drawn and weights move (with --lr and --schedule also left out: the default "
    "recipe, see --lr).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    cls=DynamicHelpOption,
    more=optimizer_defaults("batch_size"),
    help="Samples per step, for optimizers that have a batch size (an error with the others).",
)
@click.option(
    "--lr",
    "learning_rate",
    type=PositiveFloat(),
    default=None,
    cls=DynamicHelpOption,
    more=optimizer_defaults("learning_rate"),
    help=f"Learning rate. With none of --optimizer, --lr and --schedule given, the default recipe: "
    f"{DEFAULT_OPTIMIZER} at {DEFAULT_LEARNING_RATE} with a {DEFAULT_SCHEDULE} schedule; otherwise",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Epochs to train (more epochs, with --resume).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of every random choice.")
@plugin_option(
    "--dataset",
    group="datasets",
    default="mnist",
    show_default=True,
    help="Dataset to train on.",
)
@data_dir_option
@click.option(
    "--validation",
    type=ValidationSize(),
    default="0.1",
    show_default=True,
    help="Validation rows carved from the training set: a fraction below 1, a count, or 0 for none.",
)
@no_download_option
@click.option(
    "--augment",
    metavar="NAME[:KEY=VALUE,...],...",
    default=None,
    cls=DynamicHelpOption,
    more=installed("augmentations"),
    help="Random transforms of the training images, e.g. shift:pixels=2,rotate:degrees=10,scale "
    "(never of validation or test images).",
)
@plugin_option(
    "--schedule",
    group="schedules",
    default=None,
    help="Learning-rate schedule, epoch by epoch, e.g. cosine or step:every=5,factor=0.5 "
    f"[default: {DEFAULT_SCHEDULE} when --optimizer and --lr are left out too (see --lr), else constant].",
)
@click.option(
    "--dropout",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.0,
    show_default=True,
    help="Dropout rate after each hidden layer (0: none).",
)
@click.option(
    "--input-dropout",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.0,
    show_default=True,
    help="Dropout rate of the input pixels (0: none).",
)
@click.option(
    "--keep",
    type=click.Choice(["best", "last"]),
    default=None,
    help="What --out holds: the epoch with the lowest validation loss, or the last "
    "[default: best with a validation set, else last].",
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many epochs without a lower validation loss, keeping the best epoch.",
)
@click.option(
    "--min-delta",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="How much lower a validation loss must be to count as better (for --keep best and --patience).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("model.h5"),
    show_default=True,
    help="Model file, saved after every epoch.",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["hdf5", "pickle"]),
    default=None,
    help="File format, overriding the extension of --out.",
)
@click.option(
    "--textbook",
    is_flag=True,
    help="Train with the textbook forms of the plugins (netkit.plugins.textbook): the same maths, readable "
    "in a debugger, slower.",
)
@click.option("--resume", is_flag=True, help="Continue training the model in --out where it stopped.")
@click.option("--reset", "--force", "reset", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print only the final result, as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the result line.")
@click.option(
    "--web",
    is_flag=True,
    help="Also serve a live page on 127.0.0.1 (loss charts, weight grid); after training it draws with the model.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port of the --web page.")
def train(**options: Any) -> None:
    """Train a network on a dataset, watching it learn.

    In a terminal: a line per epoch (losses, validation accuracy, speed) and whole-run loss charts with the
    best epoch marked; otherwise one plain line per epoch. The model is saved to --out after every epoch;
    Ctrl-C keeps the last one.
    """
    context = click.get_current_context()
    if options["resume"] and options["reset"]:
        raise click.UsageError("--resume and --reset contradict each other; choose one")
    if options["as_json"] and options["quiet"]:
        raise click.UsageError("--json and --quiet: choose one")
    explicit = frozenset(name for name in options if context.get_parameter_source(name) is ParameterSource.COMMANDLINE)
    request = RunRequest(
        layers=options["layers"],
        activation=options["activation"],
        output_activation=options["output_activation"],
        loss=options["loss"],
        optimizer=options["optimizer"],
        batch_size=options["batch_size"],
        learning_rate=options["learning_rate"],
        seed=options["seed"],
        dataset=options["dataset"],
        validation=options["validation"],
        out=options["out"],
        format=options["file_format"],
        explicit=explicit,
        augment=options["augment"],
        schedule=options["schedule"],
        dropout=options["dropout"],
        input_dropout=options["input_dropout"],
        keep=options["keep"],
        patience=options["patience"],
        min_delta=options["min_delta"],
        epochs=options["epochs"],
    )
    if not options["resume"] and not explicit & {"optimizer", "learning_rate", "schedule"}:
        request = attrs.evolve(
            request, optimizer=DEFAULT_OPTIMIZER, learning_rate=DEFAULT_LEARNING_RATE, schedule=DEFAULT_SCHEDULE
        )
    if not request.validation and (request.keep == "best" or request.patience is not None):
        raise click.UsageError("--keep best and --patience need a validation set; drop --validation 0")
    if not options["resume"]:
        try:  # --batch-size with full-batch, --lr against the spec's own learning rate, a bad --augment
            optimizer_spec(request)
            augmentation_specs(request.augment)
            check_setup(request)
        except NetkitError as exc:
            raise click.UsageError(str(exc)) from None
    file_format = output_format(request.out, request.format)
    check_output(request.out, options["resume"], options["reset"])
    started = time.perf_counter()
    web = WebWatch("127.0.0.1", options["port"]) if options["web"] else None
    run, keeper = _prepare(request, options["resume"], options["data_dir"], not options["no_download"])
    if options["textbook"]:
        run = attrs.evolve(run, trainer=textbook_trainer(run.trainer))
    if web is not None:
        web.describe(_describe(run))
    with warnings.catch_warnings():
        warnings.simplefilter("always", LearningWarning)
        warnings.showwarning = _print_warning
        _train(run, request, file_format, options["epochs"], options["as_json"], options["quiet"], started, keeper, web)


def _print_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """Warnings for set-ups that cannot learn, as one line on stderr (the live view keeps them above it)."""
    click.echo(f"netkit: warning: {message}", err=True)


def _prepare(request: RunRequest, resume: bool, data_dir: Path | None, download: bool) -> tuple[Run, KeepBest | None]:
    if not resume:
        dataset = load_dataset(request.dataset, data_dir, download)
        problem = training_size_problem([dataset.n_features, *request.layers, dataset.n_classes])
        if problem is not None:  # before a byte of the network is allocated
            raise click.BadParameter(problem, param_hint="--layers")
        run = new_run(request, dataset)
        return run, keeper_for(run.training, run.trainer, None)
    model_file, trainer, held = open_resumed(request.out)
    conflicts = contradictions(request, model_file, trainer)
    if conflicts:
        raise ConfigError(
            f"--resume continues {request.out} as it was trained; these options disagree with it: "
            f"{'; '.join(conflicts)}. Drop them, or start over with --reset"
        )
    dataset_spec = str(model_file.training.get("dataset", request.dataset))
    run = resumed_run(request, model_file, trainer, load_dataset(dataset_spec, data_dir, download))
    return run, keeper_for(run.training, run.trainer, held)


def _describe(run: Run) -> str:
    """``mini-batch lr=0.5 batch-size=32 · mnist: 54,000 train / 6,000 validation``."""
    optimizer = run.training.get("optimizer") or {}
    validation = len(run.validation[1]) if run.validation is not None else 0
    forms = " · textbook forms" if run.trainer.model.registry.textbook else ""
    extras = "".join(
        f" · {label} {text}"
        for label, text in (
            ("schedule", fmt.spec_text(run.training["schedule"]) if run.training.get("schedule") else ""),
            ("augment", ", ".join(fmt.spec_text(spec) for spec in run.training.get("augment") or [])),
        )
        if text
    )
    return (
        f"{fmt.spec_text(optimizer)}{extras} · {run.training.get('dataset')}: "
        f"{len(run.train_labels):,} train / {validation:,} validation{forms}"
    )


def _train(
    run: Run,
    request: RunRequest,
    file_format: str,
    epochs: int,
    as_json: bool,
    quiet: bool,
    started: float,
    keeper: KeepBest | None,
    web: WebWatch | None = None,
) -> None:
    checkpoint = Checkpoint(request.out, run.training, file_format, keeper)
    console = Console(highlight=False)
    live: LiveView | None = None
    callbacks: list[Callback] = [checkpoint] if keeper is None else [keeper, checkpoint]
    if not (as_json or quiet):
        if console.is_terminal:
            title = Text.assemble(("netkit train ", "bold"), (repr(run.trainer.model), "bold cyan"))
            title.append(f"\n{_describe(run)} · saving {request.out}", style="bright_black")
            live = LiveView(console, title)
            callbacks.append(live)
        else:
            callbacks.append(PlainLines(f"training {run.trainer.model} · {_describe(run)}"))
    if web is not None:
        callbacks.append(web.progress)
    trainer = run.trainer
    try:
        run.train(epochs, callbacks)
    except KeyboardInterrupt:
        if live is not None:
            live.close()
        click.echo(f"netkit: {interrupt_message(request.out, checkpoint.saved_epoch, run.resumed_from)}", err=True)
        raise click.exceptions.Exit(130) from None
    except BaseException as exc:
        if live is not None:
            live.close()  # give the terminal back before the error message
        if web is not None:
            web.failed(str(exc))
        raise
    if keeper is not None:  # the model the file holds, the one the test accuracy is about
        keeper.restore(trainer.model)
    held = checkpoint.held_epoch or trainer.epochs_done
    scores = evaluate(trainer.model, run.dataset.test_images, run.dataset.test_labels)
    if as_json:
        click.echo(json_output.dumps(result_record(run, request, file_format, scores)))
    elif live is None:
        click.echo(
            f"test accuracy {fmt.percent(scores.accuracy)} on {scores.n:,} images · {trainer.model} · "
            f"{fmt.plural(trainer.epochs_done, 'epoch')} · saved {request.out}{held_note(trainer, held, keeper)}"
        )
    else:
        live.finish(summary(run, request, file_format, scores, time.perf_counter() - started, held, keeper))
    if web is not None:
        web.finish(run, trainer, str(request.out))
