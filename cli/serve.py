"""``netkit serve``: the local web page — draw a digit and see what every layer of the network does with it."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import click

from netkit.data import Dataset
from netkit.errors import NetkitError
from netkit.io import ModelFile
from netkit.web.inspection import ModelView, ScoredTestSet
from netkit.web.playground import Playground
from netkit.web.routes import App
from netkit.web.server import NetkitServer, bind

from .downloads import load_dataset
from .models import MODEL_HELP, model_option, one_model, open_model
from .options import data_dir_option, no_download_option, plugin_option


def model_view(model_file: ModelFile, source: str, dataset: Dataset | None, dataset_name: str) -> ModelView:
    """The page's view of a model, with its test-set answers when the dataset fits the model."""
    model = model_file.model
    if dataset is not None and (dataset.n_features != model.input_size or dataset.n_classes != model.output_size):
        click.echo(
            f"netkit: warning: {dataset_name} does not fit {model}; the page shows no mistakes or confusion matrix",
            err=True,
        )
        dataset = None
    test_set = ScoredTestSet(model_file, dataset, dataset_name) if dataset is not None else None
    return ModelView(model_file, source, test_set)


def serve_until_interrupted(server: NetkitServer, in_background: bool = False) -> None:
    """Serve until Ctrl-C (or just wait, when a background thread serves already); then close, exit 0."""
    try:
        if in_background:
            threading.Event().wait()
        else:
            server.serve_forever()
    except KeyboardInterrupt:
        click.echo("netkit: server stopped", err=True)
    finally:
        server.server_close()


@click.command()
@click.argument("model", required=False, type=click.Path(dir_okay=False, path_type=Path))
@model_option(f"{MODEL_HELP} The explicit form of MODEL.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but 127.0.0.1 or localhost lets other machines reach the page.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default web browser.")
@plugin_option(
    "--dataset",
    group="datasets",
    default=None,
    help="Test set for the mistakes and the confusion matrix.  [default: the model's own, else mnist]",
)
@click.option(
    "--train",
    "train_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also serve the playground (/playground.html): train networks and teach the model your handwriting, "
    "saving only under DIR (created if missing).",
)
@data_dir_option
@no_download_option
def serve(
    model: Path | None,
    model_option: str | None,
    host: str,
    port: int,
    open_browser: bool,
    dataset: str | None,
    train_dir: Path | None,
    data_dir: Path | None,
    no_download: bool,
) -> None:
    """Serve a local web page for MODEL (default: the pre-trained model shipped with netkit).

    Draw a digit and watch the network read it: the 28x28 image it saw, every hidden unit's activation,
    the first layer's weights, the test digits it gets wrong, the confusion matrix and the training
    history. The page and its JSON API (under /api/) are served until Ctrl-C. MODEL (or --model) is a model
    file or the name of a shipped model (cnn: a small convolutional network).

    \b
    Examples:
      netkit serve                          # the shipped model at http://127.0.0.1:8000/
      netkit serve --model cnn              # the shipped convolutional network
      netkit serve model.h5 --port 8080 --open
      netkit serve --train runs/               # and the playground at http://127.0.0.1:8000/playground.html
    """
    path, model_file = open_model(one_model(model, model_option))
    if train_dir is not None:
        _make_folder(train_dir)
    # Bound before the test set loads, so a busy port is reported at once; the URL is printed once it is ready.
    app = App(view=ModelView(model_file, str(path)))
    server = bind(app, host, port)
    dataset_name = dataset or str(model_file.training.get("dataset", "mnist"))
    data: Dataset | None
    try:
        data = load_dataset(dataset_name, data_dir, not no_download)
    except NetkitError as exc:
        click.echo(f"netkit: warning: no test set ({exc}); the page shows no mistakes or confusion matrix", err=True)
        data = None
    app.view = model_view(model_file, str(path), data, dataset_name)
    playground = None
    if train_dir is not None:
        playground = Playground(train_dir, data if app.view.test_set is not None else None)
        app.playground = playground
        playground.bind(app)
    click.echo(f"netkit serve: {server.url} · {model_file.model} · Ctrl-C to stop")
    if playground is not None:
        click.echo(f"netkit serve: playground at {server.url}playground.html · saving under {train_dir}")
    if open_browser:
        webbrowser.open(server.url + ("playground.html" if playground is not None else ""))
    try:
        serve_until_interrupted(server)
    finally:
        if playground is not None:
            playground.close()  # a run in progress stops after its batch and saves


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NetkitError(f"cannot use {folder} for the playground: {exc.strerror or exc}") from None
