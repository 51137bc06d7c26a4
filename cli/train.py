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

from netkit.errors import ConfigError, NetkitError, NetkitWarning
from netkit.io.limits import training_size_problem
from netkit.model.evaluation import evaluate
from netkit.training.defaults import PLAIN_OPTIMIZER, choose_recipe
from netkit.training.keepbest import KeepBest
from netkit.training.recipe import augmentation_specs
from netkit.training.resume import contradictions, keeper_for, open_resumed, resumed_run
from netkit.training.run import (
    Checkpoint,
    Run,
    RunRequest,
    check_output,
    check_setup,
    new_run,
    optimizer_spec,
    output_format,
    requested_activations,
)
from netkit.training.textbook_mode import textbook_trainer
from netkit.training.trainer import Callback

from . import formatting as fmt
from . import json_output
from .downloads import load_dataset
from .live import LiveView
from .train_options import EPILOG, train_options
from .train_output import PlainLines, held_note, interrupt_message, result_record, summary
from .train_web import WebWatch


@click.command(epilog=EPILOG)
@train_options
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
        layer_specs=tuple(options["layer_specs"]),
    )
    if not options["resume"]:
        activations = requested_activations(request)
        optimizer, learning_rate, schedule = choose_recipe(
            request.optimizer, request.learning_rate, request.schedule, activations
        )
        request = attrs.evolve(request, optimizer=optimizer, learning_rate=learning_rate, schedule=schedule)
    elif request.optimizer is None:
        request = attrs.evolve(request, optimizer=PLAIN_OPTIMIZER)  # not typed: the file's optimiser goes on
    if request.layer_specs:
        if explicit & {"layers", "activation", "dropout"}:
            raise click.UsageError("--layer composes the hidden layers itself: drop --layers, --activation, --dropout")
        request = attrs.evolve(request, layers=[])
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
        warnings.simplefilter("always", NetkitWarning)  # set-ups that cannot learn, inputs outside [0, 1]
        warnings.showwarning = _print_warning
        _train(run, request, file_format, options["epochs"], options["as_json"], options["quiet"], started, keeper, web)


def _print_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """netkit's warnings (set-ups that cannot learn, inputs outside [0, 1]) as one line on stderr (the live
    view keeps them above it)."""
    click.echo(f"netkit: warning: {message}", err=True)


def _prepare(request: RunRequest, resume: bool, data_dir: Path | None, download: bool) -> tuple[Run, KeepBest | None]:
    if not resume:
        dataset = load_dataset(request.dataset, data_dir, download)
        problem = training_size_problem([dataset.n_features, *request.layers, dataset.n_classes])
        if problem is not None:  # before a byte of the network is allocated
            raise click.BadParameter(problem, param_hint="--layers")
        try:
            run = new_run(request, dataset)
        except ConfigError as exc:  # layers that do not fit together: a usage error, found before training
            raise click.UsageError(str(exc)) from None
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
    scores = evaluate(trainer.model, run.dataset.test_images, run.dataset.test_labels, warn_range=False)  # said once
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
